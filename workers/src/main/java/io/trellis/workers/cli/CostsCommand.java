package io.trellis.workers.cli;

import io.trellis.metadata.UsageTotals;
import io.trellis.workers.TrellisRuntime;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "costs", mixinStandardHelpOptions = true,
        description = "Estimated cost of the recorded Spark usage, priced by the configured price sheet: one run attempt by"
                + " attempt (--run), or rolled up by run, model, environment or day.")
final class CostsCommand implements Callable<Integer> {
    /** The groupings of {@code --by}. */
    enum Grouping {
        run, model, environment, day
    }

    @ParentCommand
    TrellisCli root;

    @Option(names = "--model", description = "Only this model.")
    String model;

    @Option(names = "--run", description = "One run (its workflow ID): every attempt of every step, retries included.")
    String run;

    @Option(names = "--by", description = "Group by: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    Grouping by = Grouping.model;

    @Option(names = "--limit", description = "At most this many rows (default ${DEFAULT-VALUE}).")
    int limit = 100;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            if (run != null) {
                System.out.println("Run " + run);
                runtime.costs().printRun(run, System.out);
            } else {
                runtime.costs().printRollup(UsageTotals.By.valueOf(by.name().toUpperCase(Locale.ROOT)), model, limit, System.out);
            }
            return TrellisCli.EXIT_OK;
        }
    }
}
