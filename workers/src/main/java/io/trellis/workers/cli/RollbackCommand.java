package io.trellis.workers.cli;

import io.trellis.metadata.DeploymentRecord;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Restore the previous live version of an environment (or --to-version N). History is kept.")
final class RollbackCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(index = "0", paramLabel = "MODEL")
    String model;

    @Parameters(index = "1", paramLabel = "ENVIRONMENT")
    String environment;

    @Option(names = "--to-version", description = "A version that was live in this environment before (default: the previous one).")
    Integer toVersion;

    @Option(names = "--reason", required = true, description = "Why (required; recorded in the audit trail).")
    String reason;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            DeploymentRecord live = runtime.registry().rollback(model, environment, toVersion, actor, reason);
            System.out.println(model + " " + environment + " rolled back: v" + live.version() + " is live again");
            PromotionRunner.printEnvironments(runtime.registry(), model, System.out);
            return TrellisCli.EXIT_OK;
        }
    }
}
