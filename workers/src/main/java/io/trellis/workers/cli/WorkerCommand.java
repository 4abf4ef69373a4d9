package io.trellis.workers.cli;

import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Run the Temporal workers (orchestration and Spark task queues) until stopped.",
                "Against a configured Temporal cluster (TRELLIS_TEMPORAL_ADDRESS); with the embedded server it also",
                "serves the embedded stack in this process."})
final class WorkerCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Override
    public Integer call() throws Exception {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            runtime.startWorkers();
            System.out.println("Trellis worker running; Ctrl-C or SIGTERM stops it gracefully.");
            runtime.awaitShutdown();
            return TrellisCli.EXIT_OK;
        }
    }
}
