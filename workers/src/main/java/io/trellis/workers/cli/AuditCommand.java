package io.trellis.workers.cli;

import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.ChainVerification;
import io.trellis.workers.TrellisRuntime;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "audit", mixinStandardHelpOptions = true, description = "Show the audit trail, newest last.",
        subcommands = AuditCommand.Verify.class)
final class AuditCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--model", description = "Only this model.")
    String model;

    @Option(names = "--run", description = "Only this run (its workflow ID).")
    String run;

    @Option(names = "--from", paramLabel = "INSTANT", description = "Only entries at or after this UTC time (ISO-8601, e.g. 2026-11-26T10:00:00Z).")
    Instant from;

    @Option(names = "--to", paramLabel = "INSTANT", description = "Only entries before this UTC time.")
    Instant to;

    @Option(names = "--limit", description = "At most this many rows, 1 to " + AuditQuery.MAX_LIMIT + " (default ${DEFAULT-VALUE}).")
    int limit = 100;

    @Override
    public Integer call() {
        AuditQuery query = new AuditQuery(model, run, from, to, limit);
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            for (AuditEntry e : runtime.registry().auditTrail(query)) {
                System.out.printf(Locale.ROOT, "%6d %s %-12s %-28s %-8s %-16s %s%n", e.id(), e.occurredAt(), e.actor(), e.action(),
                        e.outcome(), e.modelName() == null ? "" : e.modelName() + (e.modelVersion() == null ? "" : " v" + e.modelVersion()),
                        e.message() == null ? "" : e.message());
            }
            return TrellisCli.EXIT_OK;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Recompute the audit log's hash chain and report the first broken link (exit code 5 when broken).")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        AuditCommand audit;

        @Override
        public Integer call() {
            try (TrellisRuntime runtime = TrellisRuntime.open(audit.root.config())) {
                ChainVerification result = runtime.metadata().auditChain().verify();
                System.out.println("audit chain " + result.summary());
                return result.intact() ? TrellisCli.EXIT_OK : TrellisCli.EXIT_CHAIN_BROKEN;
            }
        }
    }
}
