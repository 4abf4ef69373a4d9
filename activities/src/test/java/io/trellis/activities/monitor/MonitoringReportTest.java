package io.trellis.activities.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.workflows.monitor.MonitorDecision;
import io.trellis.workflows.monitor.MonitorRecord;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class MonitoringReportTest {
    private final MonitoringReport report = new MonitoringReport();

    @Test
    void theReportIsSelfContainedSortedBySeverityAndEscaped() {
        String html = report.render(TestingMonitorRecords.drifted(), Instant.parse("2025-01-04T06:01:00Z"));

        assertThat(html).contains("<strong>RETRAIN_STARTED</strong>")
                .contains("retrain/customer-churn/monitor-20250104-060000")
                .contains("1 feature drifted significantly &lt;script&gt;alert(1)&lt;/script&gt;")
                .doesNotContain("<script>alert(1)</script>")
                .doesNotContain("<b>basic</b>")
                .contains("Window 2025-01-04 – 2025-01-04 of /lake/raw/customer_churn @ Delta v3")
                .contains("AUC at training 0.800").contains("AUC on 1000 labelled recent rows 0.710")
                .contains("Current scores: predictions table /lake/predictions/customer-churn/production: run score/customer-churn/production/daily of v3")
                .doesNotContain("src=\"http").doesNotContain("<link");
        // Chart.js is inlined: the page needs no network.
        assertThat(html).contains("Chart.js v4.5.1").hasSizeGreaterThan(200_000);
        // The table: data problems first, then by severity and PSI.
        int problem = html.indexOf("<td>plan_tier</td>");
        int significant = html.indexOf("<td>monthly_charges</td>");
        int moderate = html.indexOf("<td>region</td>");
        int none = html.indexOf("<td>age</td>");
        assertThat(problem).isPositive().isLessThan(significant);
        assertThat(significant).isLessThan(moderate);
        assertThat(moderate).isLessThan(none);
    }

    @Test
    void aRunWithNothingToCompareStillRenders() {
        MonitorRecord none = new MonitorRecord("monitor/m/production/x#r", "m", "production", null, null, null,
                MonitorDecision.NEEDS_ATTENTION, "nothing is live in production", null, null, "alice");
        String html = report.render(none, Instant.EPOCH);
        assertThat(html).contains("<strong>NEEDS_ATTENTION</strong>: nothing is live in production")
                .doesNotContain("drift-table");
    }
}
