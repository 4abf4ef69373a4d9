package io.trellis.activities.monitor;

import io.trellis.workflows.monitor.DriftResult;
import io.trellis.workflows.monitor.FeatureDriftResult;
import io.trellis.workflows.monitor.MonitorDecision;
import io.trellis.workflows.monitor.MonitorRecord;
import java.util.List;

/** A monitoring run with drift, a data problem and an unseen category, for report tests. */
final class TestingMonitorRecords {
    private TestingMonitorRecords() {}

    static MonitorRecord drifted() {
        long[] refScores = new long[20];
        long[] curScores = new long[20];
        for (int i = 0; i < 20; i++) {
            refScores[i] = Math.max(2, 100 - Math.abs(i - 6) * 9L);
            curScores[i] = Math.max(2, 100 - Math.abs(i - 12) * 9L);
        }
        DriftResult drift = new DriftResult(3000, 1000, "2025-01-04", "2025-01-04", "/lake/raw/customer_churn", 3, List.of(
                new FeatureDriftResult("age", true, 0.02, 0.03, FeatureDriftResult.NONE, 0, 0, null,
                        List.of("< 30", "[30, 50)", "[50, ∞)"), new long[] {300, 400, 300}, new long[] {95, 140, 98}),
                new FeatureDriftResult("monthly_charges", true, 0.84, 0.41, FeatureDriftResult.SIGNIFICANT, 0, 0, null,
                        List.of("< 40", "[40, 80)", "[80, ∞)"), new long[] {1000, 1000, 1000}, new long[] {100, 300, 600}),
                new FeatureDriftResult("region", false, 0.15, null, FeatureDriftResult.MODERATE, 0, 0.01, null,
                        List.of("north", "south", "other / unseen", "null"), new long[] {1500, 1500, 0, 0},
                        new long[] {400, 450, 140, 10}),
                new FeatureDriftResult("plan_tier", false, null, null, FeatureDriftResult.DATA_PROBLEM, 0, 0,
                        "missing from the current data", List.of("<b>basic</b>", "other / unseen"), new long[] {3000, 0}, new long[] {0, 0})),
                0.31, FeatureDriftResult.SIGNIFICANT, refScores, curScores, 0.71, 1000,
                List.of("feature 'plan_tier' is missing from /lake/raw/customer_churn@v3"),
                "predictions table /lake/predictions/customer-churn/production: run score/customer-churn/production/daily of v3");
        return new MonitorRecord("monitor/customer-churn/production/20250104-060000#run-1", "customer-churn", "production", 3, 0.80,
                drift, MonitorDecision.RETRAIN_STARTED, "1 feature drifted significantly <script>alert(1)</script>",
                "retrain/customer-churn/monitor-20250104-060000", null, "trellis-monitor");
    }
}
