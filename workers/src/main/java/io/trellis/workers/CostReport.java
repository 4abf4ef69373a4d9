package io.trellis.workers;

import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageStore;
import io.trellis.metadata.UsageTotals;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Recorded resource usage priced by the configured price sheet: one run attempt by attempt (retries included), and
 * rollups per run, model, environment or day. Shared by the run summary, {@code trellis costs} and the API.
 */
public final class CostReport {
    private final ResourceUsageStore usage;
    private final PriceSheet prices;

    public CostReport(ResourceUsageStore usage, PriceSheet prices) {
        this.usage = usage;
        this.prices = prices;
    }

    public PriceSheet prices() {
        return prices;
    }

    /** A run's attempts and its total (every attempt, failed and cancelled ones too). */
    public Map<String, Object> run(String workflowId) {
        List<ResourceUsageRecord> attempts = usage.attempts(workflowId);
        UsageTotals total = usage.run(workflowId);
        List<Map<String, Object>> items = new ArrayList<>();
        for (ResourceUsageRecord a : attempts) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("step", a.step());
            m.put("activityType", a.activityType());
            m.put("activityId", a.activityId());
            m.put("attempt", a.attempt());
            m.put("outcome", a.outcome().name());
            m.put("environment", a.environment());
            m.put("tasks", a.tasks());
            m.put("executorRunMs", a.executorRunMs());
            m.put("executorCpuNs", a.executorCpuNs());
            m.put("bytesRead", a.bytesRead());
            m.put("recordsRead", a.recordsRead());
            m.put("bytesWritten", a.bytesWritten());
            m.put("recordsWritten", a.recordsWritten());
            m.put("shuffleReadBytes", a.shuffleReadBytes());
            m.put("shuffleWriteBytes", a.shuffleWriteBytes());
            m.put("peakExecutionMemoryBytes", a.peakExecutionMemoryBytes());
            m.put("wallMs", a.wallMs());
            m.put("estimatedCost", prices.cost(a));
            m.put("recordedAt", a.recordedAt());
            items.add(m);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("runKey", workflowId);
        body.put("currency", prices.currency());
        body.put("attempts", items);
        body.put("total", totals(total));
        return body;
    }

    public List<Map<String, Object>> rollup(UsageTotals.By by, String model, int limit) {
        return usage.rollup(by, model, limit).stream().map(this::totals).toList();
    }

    private Map<String, Object> totals(UsageTotals t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", t.key());
        m.put("model", t.modelName());
        m.put("runs", t.runs());
        m.put("attempts", t.attempts());
        m.put("unsuccessfulAttempts", t.unsuccessfulAttempts());
        m.put("tasks", t.tasks());
        m.put("coreHours", t.coreHours());
        m.put("memoryGbHours", t.memoryGbHours());
        m.put("gbRead", t.gbRead());
        m.put("gbWritten", t.gbWritten());
        m.put("shuffleReadBytes", t.shuffleReadBytes());
        m.put("shuffleWriteBytes", t.shuffleWriteBytes());
        m.put("peakExecutionMemoryBytes", t.peakExecutionMemoryBytes());
        m.put("wallMs", t.wallMs());
        m.put("estimatedCost", prices.cost(t));
        m.put("currency", prices.currency());
        return m;
    }

    /** The run's cost, attempt by attempt, for the run summary and {@code trellis costs --run}. */
    public void printRun(String workflowId, PrintStream out) {
        List<ResourceUsageRecord> attempts = usage.attempts(workflowId);
        out.println();
        out.println("Estimated cost of this run (" + prices.currency() + "; every attempt counts)");
        if (attempts.isEmpty()) {
            out.println("  no resource usage recorded (accounting off, or no Spark step ran)");
            return;
        }
        out.printf(Locale.ROOT, "  %-20s %-3s %-10s %9s %10s %9s %9s %9s %12s%n", "step", "try", "outcome", "core-h", "mem GB-h",
                "GB read", "GB wrote", "wall s", "cost");
        for (ResourceUsageRecord a : attempts) {
            out.printf(Locale.ROOT, "  %-20s %-3d %-10s %9.5f %10.6f %9.4f %9.4f %9.1f %12.6f%n", a.step(), a.attempt(), a.outcome(),
                    a.executorRunMs() / 3_600_000.0, a.memoryByteMs() / 1073741824.0 / 3_600_000.0, a.bytesRead() / 1073741824.0,
                    a.bytesWritten() / 1073741824.0, a.wallMs() / 1000.0, prices.cost(a));
        }
        UsageTotals t = usage.run(workflowId);
        out.printf(Locale.ROOT, "  %-20s %-3d %-10s %9.5f %10.6f %9.4f %9.4f %9.1f %12.6f%n", "total", t.attempts(),
                t.unsuccessfulAttempts() == 0 ? "" : t.unsuccessfulAttempts() + " retried", t.coreHours(), t.memoryGbHours(), t.gbRead(),
                t.gbWritten(), t.wallMs() / 1000.0, prices.cost(t));
    }

    public void printRollup(UsageTotals.By by, String model, int limit, PrintStream out) {
        List<UsageTotals> rows = usage.rollup(by, model, limit);
        out.printf(Locale.ROOT, "%-36s %-20s %5s %8s %9s %10s %9s %9s %12s%n", by.name().toLowerCase(Locale.ROOT), "model", "runs",
                "attempts", "core-h", "mem GB-h", "GB read", "GB wrote", "cost " + prices.currency());
        for (UsageTotals t : rows) {
            out.printf(Locale.ROOT, "%-36s %-20s %5d %8d %9.5f %10.6f %9.4f %9.4f %12.6f%n", t.key(), t.modelName(), t.runs(), t.attempts(),
                    t.coreHours(), t.memoryGbHours(), t.gbRead(), t.gbWritten(), prices.cost(t));
        }
        if (rows.isEmpty()) {
            out.println("(no resource usage recorded" + (model == null ? "" : " for " + model) + ")");
        }
    }

    /** Prometheus gauges: estimated cost and core-hours per model (all time, from the rollup). */
    public Map<String, Map<String, Double>> gauges() {
        Map<String, Double> cost = new LinkedHashMap<>();
        Map<String, Double> coreHours = new LinkedHashMap<>();
        Map<String, Double> attempts = new LinkedHashMap<>();
        for (UsageTotals t : usage.rollup(UsageTotals.By.ENVIRONMENT, null, 10_000)) {
            String labels = "{model=\"" + escape(t.modelName()) + "\",environment=\"" + escape(t.key()) + "\",currency=\""
                    + escape(prices.currency()) + "\"}";
            cost.put(labels, prices.cost(t));
            String plain = "{model=\"" + escape(t.modelName()) + "\",environment=\"" + escape(t.key()) + "\"}";
            coreHours.put(plain, t.coreHours());
            attempts.put(plain, (double) t.attempts());
        }
        Map<String, Map<String, Double>> gauges = new LinkedHashMap<>();
        gauges.put("trellis_estimated_cost", cost);
        gauges.put("trellis_spark_core_hours", coreHours);
        gauges.put("trellis_spark_step_attempts", attempts);
        return gauges;
    }

    private static String escape(String label) {
        return label == null ? "" : label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
