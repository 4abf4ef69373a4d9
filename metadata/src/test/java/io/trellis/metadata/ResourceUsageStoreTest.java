package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The resource-usage table and rollup views (V10) through {@link ResourceUsageStore}. Each test uses its own model. */
class ResourceUsageStoreTest {
    private static MetadataStore store;
    private static ResourceUsageStore usage;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(ResourceUsageStoreTest.class));
        usage = store.resourceUsage();
    }

    @AfterAll
    static void close() {
        store.close();
    }

    static ResourceUsageRecord attempt(String workflowId, String model, String environment, String activityId, int attempt,
                                       UsageOutcome outcome, long runMs, long bytesRead) {
        return new ResourceUsageRecord(workflowId, "run-" + workflowId, activityId, "Train", attempt, "train", model, environment, outcome,
                workflowId + "/" + activityId + "/attempt-" + attempt, 2, 8, outcome == UsageOutcome.SUCCEEDED ? 0 : 8, runMs,
                runMs * 900_000, bytesRead, 1000, 2048, 500, 4096, 4096, 1 << 20, (1L << 20) * runMs, runMs / 2 + 10, null);
    }

    @Test
    void everyAttemptIsRecordedOnceAndRunsSumThemAll() {
        String run = "retrain/usage-a/1";
        assertThat(usage.record(attempt(run, "usage-a", "dev", "3", 1, UsageOutcome.FAILED, 1000, 100))).isTrue();
        assertThat(usage.record(attempt(run, "usage-a", "dev", "3", 2, UsageOutcome.FAILED, 2000, 200))).isTrue();
        assertThat(usage.record(attempt(run, "usage-a", "dev", "3", 3, UsageOutcome.SUCCEEDED, 3000, 300))).isTrue();
        // A repeat of the same attempt (a retried recording) changes nothing.
        assertThat(usage.record(attempt(run, "usage-a", "dev", "3", 3, UsageOutcome.SUCCEEDED, 99_000, 999))).isFalse();

        List<ResourceUsageRecord> attempts = usage.attempts(run);
        assertThat(attempts).extracting(ResourceUsageRecord::attempt).containsExactly(1, 2, 3);
        assertThat(attempts).extracting(ResourceUsageRecord::outcome)
                .containsExactly(UsageOutcome.FAILED, UsageOutcome.FAILED, UsageOutcome.SUCCEEDED);
        assertThat(attempts.get(2).executorRunMs()).isEqualTo(3000);
        assertThat(attempts.get(2).recordedAt()).isNotNull();

        UsageTotals total = usage.run(run);
        assertThat(total.attempts()).isEqualTo(3);
        assertThat(total.unsuccessfulAttempts()).isEqualTo(2);
        assertThat(total.executorRunMs()).isEqualTo(6000);
        assertThat(total.bytesRead()).isEqualTo(600);
        assertThat(total.coreHours()).isCloseTo(6000 / 3_600_000.0, within(1e-12));
        assertThat(total.memoryGbHours()).isCloseTo((1L << 20) * 6000 / 1073741824.0 / 3_600_000.0, within(1e-15));

        PriceSheet prices = new PriceSheet("USD", 10, 0, 0, 0);
        double perAttempt = attempts.stream().mapToDouble(prices::cost).sum();
        assertThat(prices.cost(total)).isCloseTo(perAttempt, within(1e-12)).isCloseTo(10 * 6000 / 3_600_000.0, within(1e-12));
        assertThat(usage.run("retrain/usage-a/none").attempts()).isZero();
    }

    @Test
    void rollupsPerRunModelEnvironmentAndDay() {
        usage.record(attempt("retrain/usage-b/1", "usage-b", "dev", "1", 1, UsageOutcome.SUCCEEDED, 1000, 10));
        usage.record(attempt("retrain/usage-b/2", "usage-b", "dev", "1", 1, UsageOutcome.SUCCEEDED, 2000, 20));
        usage.record(attempt("score/usage-b/prod/1", "usage-b", "prod", "1", 1, UsageOutcome.CANCELLED, 4000, 40));

        assertThat(usage.rollup(UsageTotals.By.RUN, "usage-b", 10)).extracting(UsageTotals::key)
                .containsExactlyInAnyOrder("retrain/usage-b/1", "retrain/usage-b/2", "score/usage-b/prod/1");
        assertThat(usage.rollup(UsageTotals.By.MODEL, "usage-b", 10)).singleElement().satisfies(t -> {
            assertThat(t.runs()).isEqualTo(3);
            assertThat(t.attempts()).isEqualTo(3);
            assertThat(t.unsuccessfulAttempts()).isEqualTo(1);
            assertThat(t.executorRunMs()).isEqualTo(7000);
        });
        assertThat(usage.rollup(UsageTotals.By.ENVIRONMENT, "usage-b", 10))
                .extracting(UsageTotals::key, UsageTotals::executorRunMs)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("dev", 3000L), org.assertj.core.groups.Tuple.tuple("prod", 4000L));
        assertThat(usage.rollup(UsageTotals.By.DAY, "usage-b", 10)).singleElement().satisfies(t -> {
            assertThat(t.key()).isEqualTo(java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString());
            assertThat(t.bytesRead()).isEqualTo(70);
        });
        assertThat(usage.rollup(UsageTotals.By.MODEL, null, 1000)).extracting(UsageTotals::key).contains("usage-b");

        assertThat(usage.modelSince("usage-b", Instant.now().minus(1, ChronoUnit.HOURS)).executorRunMs()).isEqualTo(7000);
        assertThat(usage.modelSince("usage-b", Instant.now().plus(1, ChronoUnit.HOURS)).executorRunMs()).isZero();
    }

    @Test
    void recentRunsCarryTheRowsTheyTrainedOn() {
        Registry registry = store.registry();
        registry.applyModelSpec("usage-c", "name: usage-c", "sha", null, "alice");
        for (int i = 1; i <= 2; i++) {
            String run = "retrain/usage-c/" + i;
            registry.startRun(run, "wf", "usage-c", "alice", null, "sha", "c1");
            long datasetId = registry.recordDatasetVersion("/lake/raw/usage-c", i, 1000L * i, DatasetKind.RAW, null).id();
            registry.recordValidation(run, datasetId, true, Map.of());
            usage.record(attempt(run, "usage-c", "dev", "1", 1, UsageOutcome.SUCCEEDED, 500L * i, 10));
            registry.finishRun(run, RunStatus.SUCCEEDED, null, null, "worker");
        }
        assertThat(usage.recentRuns("usage-c", 5)).extracting(ResourceUsageStore.RunBasis::runKey, ResourceUsageStore.RunBasis::sourceRows)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("retrain/usage-c/2", 2000L),
                        org.assertj.core.groups.Tuple.tuple("retrain/usage-c/1", 1000L));
        assertThat(usage.recentRuns("usage-c", 5).get(0).usage().executorRunMs()).isEqualTo(1000);
    }
}
