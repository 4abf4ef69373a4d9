package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.metadata.UsageTotals;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The cost report over real recorded usage (PostgreSQL): a run whose train step needed three attempts costs all three. */
class CostReportTest {
    private static final String RUN = "retrain/cost-model/three-tries";
    private static MetadataStore store;
    private static CostReport report;

    @BeforeAll
    static void recordARunWithARetriedStep() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(CostReportTest.class));
        // One core-hour per attempt of train, so each attempt costs exactly the core-hour price.
        report = new CostReport(store.resourceUsage(), new PriceSheet("EUR", 2.0, 0, 0, 0));
        store.resourceUsage().record(usage("1", "snapshot + validate", 1, UsageOutcome.SUCCEEDED, 1_800_000));
        store.resourceUsage().record(usage("2", "train", 1, UsageOutcome.FAILED, 3_600_000));
        store.resourceUsage().record(usage("2", "train", 2, UsageOutcome.CANCELLED, 3_600_000));
        store.resourceUsage().record(usage("2", "train", 3, UsageOutcome.SUCCEEDED, 3_600_000));
    }

    @AfterAll
    static void close() {
        store.close();
    }

    private static ResourceUsageRecord usage(String activityId, String step, int attempt, UsageOutcome outcome, long runMs) {
        return new ResourceUsageRecord(RUN, "run-1", activityId, "Spark" + step, attempt, step, "cost-model", "dev", outcome,
                RUN + "/" + activityId + "/attempt-" + attempt, 1, 4, 0, runMs, runMs * 1_000_000, 1024, 10, 2048, 10, 0, 0, 1024,
                1024 * runMs, runMs / 4, null);
    }

    @Test
    void theRunSummaryListsEveryAttemptAndTheTotalCostsThemAll() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        report.printRun(RUN, new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);

        assertThat(out).contains("Estimated cost of this run (EUR; every attempt counts)");
        List<String> trainLines = out.lines().filter(l -> l.trim().startsWith("train ")).toList();
        assertThat(trainLines).hasSize(3);
        assertThat(trainLines.get(0)).contains(" 1 ").contains("FAILED").contains("2.000000");
        assertThat(trainLines.get(1)).contains(" 2 ").contains("CANCELLED").contains("2.000000");
        assertThat(trainLines.get(2)).contains(" 3 ").contains("SUCCEEDED").contains("2.000000");
        // 0.5 + 3 x 1 core-hours at 2 EUR.
        assertThat(out.lines().filter(l -> l.trim().startsWith("total")).findFirst().orElseThrow())
                .contains("4").contains("2 retried").contains("7.000000");
    }

    @SuppressWarnings("unchecked")
    @Test
    void theApiBodyAndTheRollupsAgree() {
        Map<String, Object> body = report.run(RUN);
        assertThat((List<Map<String, Object>>) body.get("attempts")).hasSize(4)
                .extracting(a -> a.get("estimatedCost")).containsExactly(1.0, 2.0, 2.0, 2.0);
        assertThat((double) ((Map<String, Object>) body.get("total")).get("estimatedCost")).isCloseTo(7.0, within(1e-9));
        for (UsageTotals.By by : UsageTotals.By.values()) {
            assertThat(report.rollup(by, "cost-model", 10)).as("by %s", by).singleElement()
                    .satisfies(r -> assertThat((double) r.get("estimatedCost")).isCloseTo(7.0, within(1e-9)));
        }
        assertThat(report.gauges().get("trellis_estimated_cost"))
                .containsEntry("{model=\"cost-model\",environment=\"dev\",currency=\"EUR\"}", 7.0);
    }
}
