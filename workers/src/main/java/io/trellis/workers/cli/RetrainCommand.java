package io.trellis.workers.cli;

import io.trellis.workers.RetrainRunner;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.retrain.RetrainRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "retrain", mixinStandardHelpOptions = true,
        description = "Retrain a registered model: start the workflow, show its progress, print the summary.")
final class RetrainCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(paramLabel = "MODEL")
    String model;

    @Option(names = "--reason", description = "Why this retrain (recorded in the audit trail).")
    String reason;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            RetrainRunner.Outcome outcome = new RetrainRunner(runtime, System.out).run(new RetrainRequest(model, actor, reason));
            return TrellisCli.exitCode(outcome);
        }
    }

}
