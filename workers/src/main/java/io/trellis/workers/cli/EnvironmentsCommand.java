package io.trellis.workers.cli;

import io.trellis.workers.PromotionRunner;
import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "environments", mixinStandardHelpOptions = true, description = "What is live where, with the pointer history.")
final class EnvironmentsCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Parameters(paramLabel = "MODEL")
    String model;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            PromotionRunner.printEnvironments(runtime.registry(), model, System.out);
            return TrellisCli.EXIT_OK;
        }
    }
}
