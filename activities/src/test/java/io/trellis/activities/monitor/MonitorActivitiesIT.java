package io.trellis.activities.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.failure.ApplicationFailure;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DatasetKind;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.ModelVersionRegistration;
import io.trellis.metadata.ModelVersionStatus;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RunStatus;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.monitor.MonitorDecision;
import io.trellis.workflows.monitor.MonitorRecord;
import io.trellis.workflows.monitor.MonitorTarget;
import io.trellis.workflows.monitor.StoredScoresRef;
import io.trellis.workflows.promotion.BatchScoreResult;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The monitoring registry and report steps against a real PostgreSQL and a local artifact store. */
class MonitorActivitiesIT {
    private static MetadataStore store;
    private static Registry registry;
    private static MonitorActivitiesImpl activities;
    @TempDir
    static Path artifacts;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(MonitorActivitiesIT.class));
        registry = store.registry();
        activities = new MonitorActivitiesImpl(registry, store.monitoring(), new LocalArtifactStore(artifacts));
    }

    @AfterAll
    static void close() {
        store.close();
    }

    private static void liveVersion(String model, boolean withSnapshot) {
        String yaml = SampleModels.customerChurnYaml().replace("name: customer-churn", "name: " + model);
        registry.applyModelSpec(model, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
        String run = "retrain/" + model + "/1";
        registry.startRun(run, "wf", model, "alice", null, "sha", "c1");
        if (withSnapshot) {
            long id = registry.recordDatasetVersion("/lake/raw/" + model, 4, 3000, DatasetKind.RAW, null).id();
            registry.recordRunInput(run, id, "source");
        }
        registry.registerModelVersion(new ModelVersionRegistration(run, "lr", "file:/a/" + model, "sha", 1L, Map.of(),
                Map.of("auc", 0.81), null, null, List.of(), ModelVersionStatus.REGISTERED, "c1", "worker"));
        registry.finishRun(run, RunStatus.SUCCEEDED, null, null, "worker");
    }

    @Test
    void theTargetNamesTheLiveVersionItsTrainingAucAndItsPinnedSnapshot() {
        liveVersion("pinned", true);
        assertThat(activities.target("pinned", null).live()).as("nothing live yet").isNull();
        registry.markLive("pinned", 1, "staging", "alice", null);
        registry.markLive("pinned", 1, "production", "alice", null);

        MonitorTarget target = activities.target("pinned", null);
        assertThat(target.environment()).isEqualTo("production");
        assertThat(target.live().version()).isEqualTo(1);
        assertThat(target.trainingAuc()).isEqualTo(0.81);
        assertThat(target.snapshot()).isEqualTo(new DatasetRef("/lake/raw/pinned", 4, 3000));
        assertThat(target.referenceProfile()).isNull();

        activities.storeReference("pinned", 1, target.snapshot(), "{\"bins\": []}");
        assertThat(activities.target("pinned", "production").referenceProfile()).isEqualTo("{\"bins\": []}");
        assertThatThrownBy(() -> activities.target("pinned", "qa")).isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("'qa' is not an environment of pinned");
        assertThatThrownBy(() -> activities.target("ghost", null)).isInstanceOf(ApplicationFailure.class)
                .hasMessageContaining("no model named 'ghost'");
    }

    @Test
    void theTargetNamesTheLiveVersionsLatestRecordedScoringRunInItsEnvironment() {
        liveVersion("scored", true);
        registry.markLive("scored", 1, "staging", "alice", null);
        registry.markLive("scored", 1, "production", "alice", null);
        assertThat(activities.target("scored", null).latestScoring()).as("nothing scored yet").isNull();

        var scoring = new io.trellis.activities.promotion.PromotionActivitiesImpl(registry, new LocalArtifactStore(artifacts));
        String production = "/lake/predictions/scored/production";
        scoring.recordScoring("score/scored/production/day-1", "scored", "production", 1,
                new BatchScoreResult(new DatasetRef(production, 0, 900), 900, "2025-01-01", "2025-01-01", "/lake/raw/scored", 4, 10), "sched");
        scoring.recordScoring("score/scored/production/day-2", "scored", "production", 1,
                new BatchScoreResult(new DatasetRef(production, 3, 1000), 1000, "2025-01-02", "2025-01-02", "/lake/raw/scored", 5, 10), "sched");
        // A retried recording of an older run, and a run in another environment, do not displace the latest one.
        scoring.recordScoring("score/scored/production/day-1", "scored", "production", 1,
                new BatchScoreResult(new DatasetRef(production, 0, 900), 900, "2025-01-01", "2025-01-01", "/lake/raw/scored", 4, 10), "sched");
        scoring.recordScoring("score/scored/staging/day-3", "scored", "staging", 1,
                new BatchScoreResult(new DatasetRef("/lake/predictions/scored/staging", 7, 1000), 1000, "2025-01-03", "2025-01-03",
                        "/lake/raw/scored", 6, 10), "sched");

        StoredScoresRef latest = activities.target("scored", null).latestScoring();
        assertThat(latest).isNotNull();
        assertThat(latest.runKey()).isEqualTo("score/scored/production/day-2");
        assertThat(latest.predictionsTable()).isEqualTo(production);
        assertThat(latest.predictionsVersion()).isEqualTo(3);
        assertThat(latest.sourceTable()).isEqualTo("/lake/raw/scored");
        assertThat(latest.sourceVersion()).isEqualTo(5);
        assertThat(java.time.Instant.parse(latest.recordedAt())).isBefore(java.time.Instant.now().plusSeconds(1));
        assertThat(activities.target("scored", "staging").latestScoring().runKey()).isEqualTo("score/scored/staging/day-3");
        assertThat(activities.target("scored", "dev").live()).isNull();
    }

    @Test
    void aVersionWithoutLineageHasNoSnapshotToCompareWith() {
        liveVersion("unpinned", false);
        registry.markLive("unpinned", 1, "staging", "alice", null);
        registry.markLive("unpinned", 1, "production", "alice", null);
        assertThat(activities.target("unpinned", null).snapshot()).isNull();
    }

    @Test
    void theReportIsStoredAndTheRunRecordedOnce() throws Exception {
        liveVersion("reported", true);
        MonitorRecord record = TestingMonitorRecords.drifted();
        record = new MonitorRecord(record.runKey().replace("customer-churn", "reported"), "reported", record.environment(),
                record.version(), record.trainingAuc(), record.drift(), MonitorDecision.RETRAIN_STARTED, record.reason(),
                record.retrainWorkflowId(), null, "trellis-monitor");
        String uri = activities.renderReport(record);
        assertThat(uri).startsWith(artifacts.toUri().toString() + "reported/monitoring/").endsWith("/report.html");
        assertThat(Files.readString(Path.of(URI.create(uri)))).contains("RETRAIN_STARTED");
        assertThat(activities.renderReport(record)).isEqualTo(uri);

        MonitorRecord withReport = new MonitorRecord(record.runKey(), record.modelName(), record.environment(), record.version(),
                record.trainingAuc(), record.drift(), record.decision(), record.reason(), record.retrainWorkflowId(), uri,
                record.requestedBy());
        activities.recordRun(withReport);
        activities.recordRun(withReport);
        MonitoringStore monitoring = store.monitoring();
        assertThat(monitoring.runs("reported", 10)).singleElement().satisfies(r -> {
            assertThat(r.reportUri()).isEqualTo(uri);
            assertThat(r.findings()).contains("feature 'plan_tier' is missing from /lake/raw/customer_churn@v3",
                    "plan_tier: missing from the current data");
        });
        assertThat(monitoring.series("reported", "monthly_charges", "psi")).singleElement()
                .satisfies(p -> assertThat(p.severity()).isEqualTo("SIGNIFICANT"));
        assertThat(monitoring.series("reported", MonitoringStore.MODEL, "auc_drop")).singleElement()
                .satisfies(p -> assertThat(p.value()).isCloseTo(0.09, org.assertj.core.api.Assertions.within(1e-9)));
        assertThat(monitoring.series("reported", MonitoringStore.PREDICTION, "psi")).hasSize(1);
        assertThat(registry.auditTrail(AuditQuery.forModel("reported"))).filteredOn(a -> a.action().equals("monitoring.run"))
                .singleElement().satisfies(a -> assertThat(a.details()).containsEntry("report", uri));
    }
}
