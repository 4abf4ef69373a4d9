package io.trellis.workers;

import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.LineageChain;
import io.trellis.metadata.LineageInput;
import io.trellis.metadata.Registry;
import io.trellis.spec.Metric;
import io.trellis.workflows.retrain.GateResult;
import io.trellis.workflows.retrain.RetrainResult;
import java.io.PrintStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The readable end-of-run report: version, metrics beside the champion's, data versions, lineage, audit trail. */
public final class RunSummary {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private RunSummary() {}

    public static void print(RetrainResult r, Registry registry, PrintStream out) {
        out.println();
        out.println("══ Retrain " + r.runKey() + " — " + r.status());
        out.println(r.message());
        out.println();
        if (r.source() != null) {
            out.println("Trained on");
            out.printf(Locale.ROOT, "  source    %s @ Delta version %d (%,d rows)%n", r.source().tablePath(), r.source().version(), r.source().rowCount());
        }
        if (r.features() != null) {
            out.printf(Locale.ROOT, "  features  %s @ Delta version %d (%,d rows)%n", r.features().tablePath(), r.features().version(), r.features().rowCount());
        }
        if (r.metrics() != null) {
            out.println();
            String champ = r.championVersion() == null ? "champion: none" : "champion v" + r.championVersion();
            out.printf(Locale.ROOT, "Holdout metrics     %-14s %-14s%n", "candidate v" + r.version(), champ);
            Set<String> keys = new LinkedHashSet<>();
            for (Metric m : Metric.values()) {
                keys.add(m.key());
            }
            keys.addAll(r.metrics().keySet());
            for (String k : keys) {
                Double c = r.metrics().get(k);
                if (c == null) {
                    continue;
                }
                Double ch = r.championMetrics() == null ? null : r.championMetrics().get(k);
                out.printf(Locale.ROOT, "  %-17s %-14s %-14s%n", k, fmt(c), ch == null ? "—" : fmt(ch));
            }
            if (r.championNote() != null) {
                out.println("  note: " + r.championNote());
            }
        }
        if (r.gates() != null && !r.gates().isEmpty()) {
            out.println();
            out.println("Gates");
            for (GateResult g : r.gates()) {
                out.printf(Locale.ROOT, "  %s %-15s %s%n", g.passed() ? "PASS" : "FAIL", g.gate(), g.detail());
            }
        }
        if (r.version() != null) {
            LineageChain chain = registry.lineage(r.modelName(), r.version());
            out.println();
            out.println("Lineage of " + r.modelName() + " v" + r.version());
            for (LineageInput in : chain.inputs()) {
                out.printf(Locale.ROOT, "  %-8s %s @ v%d (%s, %,d rows)%n", in.relation(), in.dataset().tablePath(),
                        in.dataset().deltaVersion(), in.dataset().kind().name().toLowerCase(Locale.ROOT), in.dataset().rowCount());
            }
            out.printf(Locale.ROOT, "  ↳ run    %s (by %s, code %s, spec sha256 %s)%n", chain.run().runKey(), chain.run().triggeredBy(),
                    chain.run().codeVersion(), abbreviate(chain.run().specSha256()));
            out.printf(Locale.ROOT, "  ↳ model  %s v%d [%s] %s (%s)%n", r.modelName(), chain.version().version(),
                    chain.version().status(), chain.version().algorithm(), params(chain.version().params()));
            out.printf(Locale.ROOT, "    artifact %s sha256 %s%n", chain.version().artifactUri(), abbreviate(chain.version().artifactSha256()));
            for (DeploymentRecord d : chain.deployments()) {
                out.printf(Locale.ROOT, "  ↳ %s %s since %s%s%n", d.environment(), d.role().name().toLowerCase(Locale.ROOT),
                        TIME.format(d.validFrom()), d.validTo() == null ? "" : " until " + TIME.format(d.validTo()));
            }
        }
        printAuditTrail(registry, r.runKey(), out);
    }

    /** The audit rows of one run, oldest first. */
    public static void printAuditTrail(Registry registry, String runKey, PrintStream out) {
        out.println();
        out.println("Audit trail of this run");
        for (AuditEntry e : registry.auditTrail(new AuditQuery(null, runKey, 200))) {
            out.printf(Locale.ROOT, "  %s  %-10s %-28s %-8s %s%n", TIME.format(e.occurredAt()), e.actor(), e.action(), e.outcome(),
                    e.message() == null ? "" : e.message());
        }
    }

    private static String params(Map<String, Object> params) {
        StringBuilder sb = new StringBuilder();
        params.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static String abbreviate(String sha) {
        return sha == null ? "—" : sha.substring(0, Math.min(12, sha.length()));
    }
}
