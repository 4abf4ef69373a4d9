package io.trellis.workers.cli;

import io.trellis.spec.SampleModels;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.TrellisRuntime;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "sample-data", mixinStandardHelpOptions = true,
        description = "Generate the synthetic customer-churn table (idempotent: only missing daily batches are written).")
final class SampleDataCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--table", description = "Table, relative to the lake root (default ${DEFAULT-VALUE}).")
    String table = SampleModels.CUSTOMER_CHURN_TABLE;

    @Option(names = "--rows", description = "Total rows (default ${DEFAULT-VALUE}; 1,000,000 works).")
    long rows = SampleDataOptions.DEFAULT_ROWS;

    @Option(names = "--days", description = "Daily batches (default ${DEFAULT-VALUE}).")
    int days = SampleDataOptions.DEFAULT_DAYS;

    @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed = SampleDataOptions.DEFAULT_SEED;

    @Option(names = "--drift-from-day", description = "First drifted batch (default: no drift).")
    int driftFromDay = SampleDataOptions.NO_DRIFT;

    @Option(names = "--drift-strength", description = "How far drifted batches shift (default ${DEFAULT-VALUE}).")
    double driftStrength = 1.0;

    @Option(names = "--as", description = "Identity recorded in the audit trail.")
    String actor = TrellisCli.defaultActor();

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            new LocalRetrain(runtime, System.out).generateSampleData(new SampleDataOptions(runtime.lake().resolve(table),
                    rows, days, seed, driftFromDay, driftStrength), actor);
            return TrellisCli.EXIT_OK;
        }
    }
}
