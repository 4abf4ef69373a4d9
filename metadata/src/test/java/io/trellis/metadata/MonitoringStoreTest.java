package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.trellis.metadata.MonitoringStore.MonitoringRun;
import io.trellis.metadata.MonitoringStore.Statistic;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The monitoring tables (V5) through {@link MonitoringStore}, against the real schema. Each test uses its own model. */
class MonitoringStoreTest {
    private static MetadataStore store;
    private static Registry registry;
    private static MonitoringStore monitoring;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(MonitoringStoreTest.class));
        registry = store.registry();
        monitoring = store.monitoring();
    }

    @AfterAll
    static void close() {
        store.close();
    }

    private static void modelWithVersion(String model) {
        registry.applyModelSpec(model, "name: " + model, "sha", null, "alice");
        String run = "retrain/" + model + "/1";
        registry.startRun(run, "wf", model, "alice", null, "sha", "c1");
        registry.registerModelVersion(new ModelVersionRegistration(run, "lr", "file:/a", "sha", 1L, Map.of(), Map.of("auc", 0.8),
                null, null, List.of(), ModelVersionStatus.REGISTERED, "c1", "worker"));
        registry.finishRun(run, RunStatus.SUCCEEDED, null, null, "worker");
    }

    private static MonitoringRun run(String key, String model, String decision, String retrain) {
        return run(key, model, "production", decision, retrain);
    }

    private static MonitoringRun run(String key, String model, String environment, String decision, String retrain) {
        return new MonitoringRun(key, model, 1, environment, decision, "because", retrain, "2025-01-02", "2025-01-04", 100L,
                50L, "file:/report.html", List.of("feature 'x' is missing"), "trellis-monitor", null);
    }

    @Test
    void aSeriesCanBeNarrowedToOneEnvironmentAndItsLatestPointsOldestFirst() {
        modelWithVersion("env-series-model");
        monitoring.recordRun(run("monitor/env-series-model/1", "env-series-model", "production", "NO_DRIFT", null),
                List.of(new Statistic("x", "psi", 0.1, "MODERATE"), new Statistic(MonitoringStore.MODEL, "auc", 0.8, null)));
        monitoring.recordRun(run("monitor/env-series-model/2", "env-series-model", "staging", "NO_DRIFT", null),
                List.of(new Statistic("x", "psi", 0.2, "SIGNIFICANT")));
        monitoring.recordRun(run("monitor/env-series-model/3", "env-series-model", "production", "NO_DRIFT", null),
                List.of(new Statistic("x", "psi", 0.3, "SIGNIFICANT")));

        assertThat(monitoring.series("env-series-model", null, "x", "psi", 100)).extracting(MonitoringStore.Point::value)
                .containsExactly(0.1, 0.2, 0.3);
        assertThat(monitoring.series("env-series-model", "production", "x", "psi", 100))
                .extracting(MonitoringStore.Point::value, MonitoringStore.Point::environment, MonitoringStore.Point::modelVersion)
                .containsExactly(tuple(0.1, "production", 1), tuple(0.3, "production", 1));
        assertThat(monitoring.series("env-series-model", null, "x", "psi", 2)).extracting(MonitoringStore.Point::runKey)
                .containsExactly("monitor/env-series-model/2", "monitor/env-series-model/3");
        assertThat(monitoring.series("env-series-model", "dev", "x", "psi", 100)).isEmpty();
        assertThat(monitoring.seriesNames("env-series-model")).containsExactly(
                new MonitoringStore.SeriesName(MonitoringStore.MODEL, "auc"), new MonitoringStore.SeriesName("x", "psi"));
        assertThatThrownBy(() -> monitoring.series("no-such-model", null, "x", "psi", 10)).isInstanceOf(TrellisException.class)
                .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL));
        assertThatThrownBy(() -> monitoring.series("env-series-model", null, "x", "psi", 0)).isInstanceOf(TrellisException.class)
                .hasMessage("a series limit must be at least 1, got 0");
    }

    @Test
    void referenceProfileIsStoredOncePerVersionAndAudited() {
        modelWithVersion("ref-model");
        assertThat(monitoring.reference("ref-model", 1)).isEmpty();
        var first = monitoring.storeReference("ref-model", 1, "/lake/raw/t", 7, "{\"rows\": 3}", "trellis-monitor");
        var again = monitoring.storeReference("ref-model", 1, "/lake/raw/t", 9, "{\"rows\": 4}", "trellis-monitor");
        assertThat(again).isEqualTo(first);
        assertThat(first.sourceVersion()).isEqualTo(7);
        assertThat(first.profileJson()).contains("\"rows\": 3");
        assertThat(registry.auditTrail(AuditQuery.forModel("ref-model"))).filteredOn(a -> a.action().equals("monitoring.reference_computed"))
                .singleElement().satisfies(a -> assertThat(a.message()).contains("/lake/raw/t @ Delta v7"));
        assertThatThrownBy(() -> monitoring.storeReference("ref-model", 2, "t", 1, "{}", "x"))
                .isInstanceOf(TrellisException.class)
                .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL_VERSION));
    }

    @Test
    void runsAreRecordedOnceWithTheirSeriesAndAuditRow() {
        modelWithVersion("series-model");
        MonitoringRun first = monitoring.recordRun(run("monitor/series-model/1", "series-model", "NO_DRIFT", null),
                List.of(new Statistic("x", "psi", 0.05, "NONE"), new Statistic("x", "ks", 0.02, null),
                        new Statistic("x", "null_rate", Double.NaN, null)));
        MonitoringRun retried = monitoring.recordRun(run("monitor/series-model/1", "series-model", "NEEDS_ATTENTION", null),
                List.of(new Statistic("x", "psi", 9.0, "SIGNIFICANT")));
        monitoring.recordRun(run("monitor/series-model/2", "series-model", "RETRAIN_STARTED", "retrain/series-model/monitor-2"),
                List.of(new Statistic("x", "psi", 0.4, "SIGNIFICANT")));

        assertThat(retried).isEqualTo(first);
        assertThat(first.decision()).isEqualTo("NO_DRIFT");
        assertThat(first.findings()).containsExactly("feature 'x' is missing");
        assertThat(monitoring.series("series-model", "x", "psi")).extracting(MonitoringStore.Point::value).containsExactly(0.05, 0.4);
        assertThat(monitoring.series("series-model", "x", "null_rate")).isEmpty();
        assertThat(monitoring.runs("series-model", 10)).extracting(MonitoringRun::runKey)
                .containsExactly("monitor/series-model/2", "monitor/series-model/1");
        assertThat(registry.auditTrail(AuditQuery.forModel("series-model"))).filteredOn(a -> a.action().equals("monitoring.run"))
                .extracting(AuditEntry::runKey).containsExactly("monitor/series-model/1", "monitor/series-model/2");
    }

    @Test
    void retrainGuardSeesRunningRetrainsAndTheCooldown() {
        modelWithVersion("guard-model");
        assertThat(monitoring.retrainGuard("guard-model", 3600).allowsRetrain()).isTrue();
        registry.startRun("retrain/guard-model/2", "wf", "guard-model", "trellis-monitor", "drift", "sha", "c1");
        assertThat(monitoring.retrainGuard("guard-model", 3600).runningRunKey()).isEqualTo("retrain/guard-model/2");
        registry.finishRun("retrain/guard-model/2", RunStatus.FAILED, "train", "boom", "worker");
        assertThat(monitoring.retrainGuard("guard-model", 3600).allowsRetrain()).isTrue();

        monitoring.recordRun(run("monitor/guard-model/1", "guard-model", "RETRAIN_STARTED", "retrain/guard-model/3"), List.of());
        assertThat(monitoring.retrainGuard("guard-model", 3600).recentMonitorRetrain()).isEqualTo("retrain/guard-model/3");
        assertThat(monitoring.retrainGuard("guard-model", 0).allowsRetrain()).isTrue();
    }
}
