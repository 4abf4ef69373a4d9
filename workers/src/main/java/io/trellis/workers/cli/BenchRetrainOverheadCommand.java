package io.trellis.workers.cli;

import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.workers.bench.RetrainOverheadBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench-retrain-overhead", mixinStandardHelpOptions = true,
        description = {"Orchestration overhead of one retrain on the embedded stack: the full",
                "lifecycle through Trellis (Temporal workflow, PostgreSQL registry, artifact",
                "store) against the same Spark steps called directly, on ROWS generated rows",
                "in one JVM. Ignores --config: always all-embedded, in a fresh home folder.",
                "Ends with RESULT name=value lines (bare_seconds, trellis_seconds,",
                "overhead_ratio, ...)."})
final class BenchRetrainOverheadCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "ROWS", description = "Rows of generated data (default ${DEFAULT-VALUE}).")
    long rows = 1_000_000;

    @Option(names = "--days", description = "Daily batches the rows are split into (default ${DEFAULT-VALUE}).")
    int days = SampleDataOptions.DEFAULT_DAYS;

    @Option(names = "--seed", description = "Generator seed (default ${DEFAULT-VALUE}).")
    long seed = SampleDataOptions.DEFAULT_SEED;

    @Option(names = "--repeat", description = "Alternating bare/Trellis rounds; medians are reported (default ${DEFAULT-VALUE}).")
    int repeat = 3;

    @Option(names = "--home", description = "Empty or new folder for the embedded stack (default: a fresh folder under ./trellis-data/bench, else java.io.tmpdir).")
    Path home;

    @Option(names = "--keep", description = "Keep the home folder (data, lake, PostgreSQL) instead of deleting it at the end.")
    boolean keep;

    @Override
    public Integer call() {
        new RetrainOverheadBenchmark(System.out).run(
                new RetrainOverheadBenchmark.Options(rows, days, seed, repeat, home, keep, TrellisCli.defaultActor()));
        return TrellisCli.EXIT_OK;
    }
}
