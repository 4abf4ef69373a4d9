package io.trellis.workers.cli;

import io.trellis.workers.bench.LineageQueriesBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-lineage-queries", mixinStandardHelpOptions = true,
        description = {"Latency of the lineage and audit queries on generated data (default 10,000",
                "model versions and 1,000,000 hash-chained audit rows) in a fresh embedded",
                "PostgreSQL. Ignores --config. Prints p50/p99 per query and ends with",
                "RESULT <query>_p99_ms=... lines."})
final class BenchLineageQueriesCommand implements Callable<Integer> {
    @Option(names = "--models", description = "Models (default ${DEFAULT-VALUE}).")
    int models = 100;

    @Option(names = "--versions-per-model", description = "Versions of each model (default ${DEFAULT-VALUE}).")
    int versionsPerModel = 100;

    @Option(names = "--audit-rows", description = "Audit rows (default ${DEFAULT-VALUE}).")
    long auditRows = 1_000_000;

    @Option(names = "--iterations", description = "Timed calls per query (default ${DEFAULT-VALUE}).")
    int iterations = 300;

    @Option(names = "--home", description = "Folder for the PostgreSQL data (default: a temporary folder, deleted at the end).")
    Path home;

    @Option(names = "--keep", description = "Keep the --home folder.")
    boolean keep;

    @Override
    public Integer call() {
        new LineageQueriesBenchmark(System.out).run(new LineageQueriesBenchmark.Options(models, versionsPerModel, auditRows, iterations, home, keep));
        return TrellisCli.EXIT_OK;
    }
}
