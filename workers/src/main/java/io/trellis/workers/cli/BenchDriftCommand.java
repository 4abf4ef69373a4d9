package io.trellis.workers.cli;

import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.workers.bench.DriftBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench-drift", mixinStandardHelpOptions = true,
        description = {"Cost of the monitoring pass (all 20 features binned, scored and counted in one Spark job)",
                "against a plain count() scan of the same window, on ROWS generated rows. Ignores --config.",
                "Ends with RESULT name=value lines (drift_pass_seconds, scan_seconds, drift_scan_ratio, ...)."})
final class BenchDriftCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "ROWS", description = "Rows of generated data (default ${DEFAULT-VALUE}).")
    long rows = 1_000_000;

    @Option(names = "--days", description = "Daily batches (default ${DEFAULT-VALUE}); the first 70% train the model, the rest drift.")
    int days = SampleDataOptions.DEFAULT_DAYS;

    @Option(names = "--repeat", description = "Alternating rounds; medians are reported (default ${DEFAULT-VALUE}).")
    int repeat = 3;

    @Option(names = "--master", description = "Spark master (default ${DEFAULT-VALUE}).")
    String master = "local[*]";

    @Option(names = "--current-only", description = "Time only the current pass and its variants against the scan (skip the"
            + " reference pass and the re-scoring pass, which dominate a round).")
    boolean currentOnly;

    @Override
    public Integer call() {
        new DriftBenchmark(System.out).run(new DriftBenchmark.Options(rows, days, repeat, master, currentOnly));
        return TrellisCli.EXIT_OK;
    }
}
