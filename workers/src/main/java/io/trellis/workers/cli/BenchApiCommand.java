package io.trellis.workers.cli;

import io.trellis.workers.bench.ApiBenchmark;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench-api", mixinStandardHelpOptions = true,
        description = {"API figures on the embedded stack: accepted retrain triggers per second and read-endpoint",
                "latency (versions, lineage, runs and audit pages) with the registry seeded to --versions model",
                "versions and --audit-rows audit rows. Ignores --config. Ends with RESULT name=value lines",
                "(trigger_per_s, read_p50_ms, read_p99_ms)."})
final class BenchApiCommand implements Callable<Integer> {
    @Option(names = "--versions", description = "Model versions to seed (default ${DEFAULT-VALUE}).")
    int versions = 10_000;

    @Option(names = "--audit-rows", description = "Audit rows to seed (default ${DEFAULT-VALUE}).")
    int auditRows = 1_000_000;

    @Option(names = "--triggers", description = "Retrain triggers to send (default ${DEFAULT-VALUE}).")
    int triggers = 300;

    @Option(names = "--reads", description = "Read requests to time (default ${DEFAULT-VALUE}).")
    int reads = 5_000;

    @Option(names = "--clients", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients = 16;

    @Option(names = "--home", description = "Empty or new folder for the embedded stack (default: under ./trellis-data/bench).")
    Path home;

    @Override
    public Integer call() throws Exception {
        new ApiBenchmark(System.out).run(new ApiBenchmark.Options(versions, auditRows, triggers, reads, clients, home));
        return TrellisCli.EXIT_OK;
    }
}
