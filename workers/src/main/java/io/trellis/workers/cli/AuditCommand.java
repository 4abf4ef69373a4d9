package io.trellis.workers.cli;

import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.workers.TrellisRuntime;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "audit", mixinStandardHelpOptions = true, description = "Show the audit trail, newest last.")
final class AuditCommand implements Callable<Integer> {
    @ParentCommand
    TrellisCli root;

    @Option(names = "--model", description = "Only this model.")
    String model;

    @Option(names = "--run", description = "Only this run (its workflow ID).")
    String run;

    @Option(names = "--limit", description = "At most this many rows (default ${DEFAULT-VALUE}).")
    int limit = 100;

    @Override
    public Integer call() {
        try (TrellisRuntime runtime = TrellisRuntime.open(root.config())) {
            for (AuditEntry e : runtime.registry().auditTrail(new AuditQuery(model, run, limit))) {
                System.out.printf(Locale.ROOT, "%6d %s %-12s %-28s %-8s %-16s %s%n", e.id(), e.occurredAt(), e.actor(), e.action(),
                        e.outcome(), e.modelName() == null ? "" : e.modelName() + (e.modelVersion() == null ? "" : " v" + e.modelVersion()),
                        e.message() == null ? "" : e.message());
            }
            return TrellisCli.EXIT_OK;
        }
    }
}
