package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RetentionStore;
import io.trellis.metadata.RetentionStore.LegalHold;
import io.trellis.metadata.RetentionStore.PurgedSubject;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.testing.TestingDeltaClock;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.retention.RetentionItem;
import io.trellis.workflows.retention.RetentionMode;
import io.trellis.workflows.retention.RetentionReport;
import io.trellis.workflows.retention.RetentionRequest;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Lineage-aware retention end to end: three real retrains (Temporal test server, PostgreSQL, Spark and Delta on a temp
 * lake), v2 made live in staging, v3 the dev candidate, a compliance period of 0 days. v1 is pinned by nothing once its
 * training data's legal hold is lifted; retention then deletes its artifact and vacuums the feature-table version it was
 * trained on, and leaves v2 reproducible and its artifact fetchable. The feature table's commits are aged three hours
 * apart ({@link TestingDeltaClock}) because Delta's VACUUM works in whole hours.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetentionIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private static final String AUDITOR = "anna-auditor";
    private TrellisRuntime runtime;
    private Registry registry;
    private RetentionStore store;
    private String featureTable;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private PrintStream out;
    private RetentionReport deleted;

    @BeforeAll
    void startStack() {
        Map<String, String> settings = new HashMap<>(TestingTrellisConfig.settings(RetentionIT.class));
        settings.put("TRELLIS_RETENTION_COMPLIANCE_DAYS", "0");
        settings.put("TRELLIS_RETENTION_VACUUM_MARGIN_SECONDS", "0");
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings));
        registry = runtime.registry();
        store = runtime.metadata().retention();
        out = new PrintStream(output, true, StandardCharsets.UTF_8);
        new LocalRetrain(runtime, out).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 2_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        var spec = ModelSpecLoader.parse(yaml);
        registry.applyModelSpec(spec.name(), yaml, ModelSpecLoader.sha256(yaml), spec.environments(), "alice");
        registry.grantRoles(AUDITOR, Set.of(PrincipalRole.AUDITOR), "admin");
        registry.grantRoles("eve-engineer", Set.of(PrincipalRole.ML_ENGINEER), "admin");
        runtime.startWorkers();
        featureTable = SparkActivitiesImpl.featureTable(runtime.lake(), MODEL);
    }

    @AfterAll
    void stopStack() {
        runtime.close();
    }

    private List<AuditEntry> audit(String action) {
        return registry.auditTrail(new AuditQuery(null, null, 1000)).stream().filter(e -> e.action().equals(action)).toList();
    }

    private ArtifactRef artifact(int version) {
        ModelVersionRecord v = registry.version(MODEL, version).orElseThrow();
        return new ArtifactRef(v.artifactUri(), v.artifactSha256(), v.artifactBytes());
    }

    private RetentionReport retention(RetentionMode mode) {
        RetentionReport report = new RetentionRunner(runtime, Clock.systemUTC()).run(new RetentionRequest(mode, AUDITOR, "retention IT"));
        output.reset();
        RetentionRunner.print(report, out);
        System.out.println(output.toString(StandardCharsets.UTF_8));
        return report;
    }

    private static List<String> subjects(List<RetentionItem> items, String kind) {
        return items.stream().filter(i -> i.kind().equals(kind)).map(RetentionItem::subject).toList();
    }

    @Test
    @Order(1)
    void threeRetrainsThenV2LiveInStagingAndV3TheDevCandidate() {
        for (int i = 1; i <= 3; i++) {
            RetrainRunner.Outcome outcome = new RetrainRunner(runtime, out).run(new RetrainRequest(MODEL, "alice", "retention IT " + i));
            assertThat(outcome.status()).as("retrain %d: %s", i, outcome.message()).isEqualTo(RunStatus.SUCCEEDED);
            assertThat(outcome.result().features().version()).isEqualTo(i - 1);
        }
        // v1 was live in staging before v2: a rollback would restore it, until retention purges it
        registry.markLive(MODEL, 1, "staging", "alice", "retention IT");
        registry.markLive(MODEL, 2, "staging", "alice", "retention IT");
        assertThat(registry.findChampion(MODEL).orElseThrow().version()).isEqualTo(2);
        // v0, v1, v2 of the feature table: 9, 6, 3 hours old (Delta's VACUUM counts whole hours)
        TestingDeltaClock.age(featureTable, Duration.ofHours(3));
        for (long v = 0; v <= 2; v++) {
            assertThat(DeltaTables.read(runtime.spark(), new DatasetVersion(featureTable, v)).count()).isPositive();
        }
    }

    @Test
    @Order(2)
    void badHoldRequestsFailPreciselyAndARefusalIsAudited() {
        assertThatThrownBy(() -> store.setHold(featureTable, 99, "case 7", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_DATASET_VERSION))
                .hasMessageContaining(featureTable + "@99").hasMessageContaining("is recorded");
        assertThatThrownBy(() -> store.setHold(runtime.lake().resolve("features/no-such-model"), 0, "case 7", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_DATASET_VERSION));
        assertThatThrownBy(() -> store.liftHold(424242, "done", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_LEGAL_HOLD))
                .hasMessageContaining("424242");
        assertThatThrownBy(() -> store.setHold(featureTable, 0, " ", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST))
                .hasMessageContaining("reason");
        assertThatThrownBy(() -> store.setHold(featureTable, 0, "case 7", "eve-engineer"))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN))
                .hasMessageContaining("auditor or admin");
        assertThat(audit(RetentionStore.HOLD_SET)).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo("eve-engineer");
            assertThat(e.outcome()).isEqualTo(AuditOutcome.REJECTED);
        });
        assertThat(store.openHolds()).isEmpty();
    }

    @Test
    @Order(3)
    void aLegalHoldOnTheFirstFeatureVersionPinsItAndTheModelTrainedOnIt() {
        LegalHold hold = store.setHold(featureTable, 0, "matter 2026-17", AUDITOR);
        assertThat(hold.isOpen()).isTrue();
        assertThatThrownBy(() -> store.setHold(featureTable, 0, "again", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE));

        RetentionReport dry = retention(RetentionMode.DRY_RUN);

        assertThat(dry.removed()).isEmpty();
        assertThat(dry.bytesReclaimed()).isZero();
        assertThat(dry.kept()).filteredOn(i -> i.subject().equals(MODEL + " v1")).singleElement()
                .satisfies(i -> assertThat(String.join(";", i.pins())).contains("legal hold " + hold.id()));
        assertThat(dry.kept()).filteredOn(i -> i.subject().equals(MODEL + " v2")).singleElement()
                .satisfies(i -> assertThat(String.join(";", i.pins())).contains("live in staging"));
        assertThat(dry.kept()).filteredOn(i -> i.subject().equals(MODEL + " v3")).singleElement()
                .satisfies(i -> assertThat(String.join(";", i.pins())).contains("candidate in dev"));
        assertThat(audit("retention.planned")).hasSize(1);
    }

    @Test
    @Order(4)
    void afterTheHoldIsLiftedADryRunReportsV1AndItsFeatureVersionAndDeletesNothing() {
        LegalHold hold = store.openHolds().get(0);
        LegalHold lifted = store.liftHold(hold.id(), "matter closed", AUDITOR);
        assertThat(lifted.isOpen()).isFalse();
        assertThat(lifted.liftedBy()).isEqualTo(AUDITOR);
        assertThat(audit(RetentionStore.HOLD_SET)).filteredOn(e -> e.outcome() == AuditOutcome.SUCCESS).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("matter 2026-17"));
        assertThat(audit(RetentionStore.HOLD_LIFTED)).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo(AUDITOR);
            assertThat(e.message()).contains("matter closed");
        });
        assertThatThrownBy(() -> store.liftHold(hold.id(), "again", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE));

        RetentionReport dry = retention(RetentionMode.DRY_RUN);

        assertThat(subjects(dry.removed(), RetentionItem.MODEL_ARTIFACT)).containsExactly(MODEL + " v1");
        assertThat(subjects(dry.removed(), RetentionItem.DELTA_FILES)).containsExactly(featureTable + "@0..0");
        assertThat(dry.bytesReclaimed()).isGreaterThan(artifact(1).bytes());
        assertThat(dry.warnings()).isEmpty();
        // nothing changed
        assertThat(Files.isDirectory(Path.of(java.net.URI.create(artifact(1).uri())))).isTrue();
        assertThat(DeltaTables.read(runtime.spark(), new DatasetVersion(featureTable, 0)).count()).isPositive();
        assertThat(store.purgedAt(PurgedSubject.MODEL_VERSION, registry.version(MODEL, 1).orElseThrow().id())).isEmpty();
        assertThat(audit("retention.planned")).hasSize(2);
    }

    @Test
    @Order(5)
    void retentionDeletesWhatNothingPinsAndThePinnedModelStillReproduces() {
        RetentionReport done = retention(RetentionMode.DELETE);
        deleted = done;

        assertThat(subjects(done.removed(), RetentionItem.MODEL_ARTIFACT)).containsExactly(MODEL + " v1");
        assertThat(subjects(done.removed(), RetentionItem.DELTA_FILES)).containsExactly(featureTable + "@0..0");
        assertThat(done.bytesReclaimed()).isGreaterThan(artifact(1).bytes());
        assertThat(done.warnings()).isEmpty();

        // v1: artifact gone, record kept and marked purged; its feature version's files vacuumed
        assertThat(Files.exists(Path.of(java.net.URI.create(artifact(1).uri())))).isFalse();
        assertThatThrownBy(() -> runtime.artifactStore().fetch(artifact(1)))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH));
        ModelVersionRecord v1 = registry.version(MODEL, 1).orElseThrow();
        assertThat(store.purgedAt(PurgedSubject.MODEL_VERSION, v1.id())).isPresent();
        // (count() alone is answered from the log's statistics: read the rows)
        assertThatThrownBy(() -> DeltaTables.read(runtime.spark(), new DatasetVersion(featureTable, 0)).collectAsList())
                .isInstanceOf(Exception.class);
        assertThat(store.inventory(java.time.Instant.now()).datasetVersions()).filteredOn(d -> d.tablePath().equals(featureTable))
                .extracting(d -> d.deltaVersion() + ":" + (d.purgedAt() != null)).containsExactly("0:true", "1:false", "2:false");

        // v2 and v3: artifacts fetchable (checksums verified), feature versions readable, v2 reproduces
        assertThat(runtime.artifactStore().fetch(artifact(2))).isDirectory();
        assertThat(runtime.artifactStore().fetch(artifact(3))).isDirectory();
        assertThat(DeltaTables.read(runtime.spark(), new DatasetVersion(featureTable, 1)).count()).isPositive();
        assertThat(DeltaTables.read(runtime.spark(), new DatasetVersion(featureTable, 2)).count()).isPositive();
        Reproduction.Result reproduced = new Reproduction(runtime.metadata(), runtime.spark(), runtime.config().home().resolve("scratch"))
                .run(MODEL, 2, AUDITOR);
        assertThat(reproduced.reproduced()).isTrue();
        assertThat(reproduced.featuresIdentical()).isTrue();

        assertThat(audit("retention.completed")).singleElement().satisfies(e -> {
            assertThat(e.actor()).isEqualTo(AUDITOR);
            assertThat(e.outcome()).isEqualTo(AuditOutcome.SUCCESS);
            assertThat(e.message()).contains(done.bytesReclaimed() + " bytes reclaimed");
        });
        assertThat(audit("model.artifact_purged")).singleElement().satisfies(e -> assertThat(e.modelVersion()).isEqualTo(1));

        // a second run finds nothing more to delete
        RetentionReport again = retention(RetentionMode.DELETE);
        assertThat(again.removed()).isEmpty();
        assertThat(again.bytesReclaimed()).isZero();
        // a hold on a purged version is refused: its files are gone
        assertThatThrownBy(() -> store.setHold(featureTable, 0, "too late", AUDITOR))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                .hasMessageContaining("purged");
    }

    private List<AuditEntry> auditOfRun(String action, String retentionRun) {
        return audit(action).stream().filter(e -> e.details() != null && retentionRun.equals(e.details().get("retentionRun"))).toList();
    }

    @Test
    @Order(6)
    void deployingTheVersionWhoseArtifactWasPurgedIsRefusedUpFrontNamingTheRetentionRun() {
        assertThat(deleted).as("the deleting run of order 5").isNotNull();
        String expected = "model " + MODEL + " v1 was purged by retention run " + deleted.retentionRun() + " at ";
        int rejectedBefore = (int) audit("environment.rolled_back").stream().filter(e -> e.outcome() == AuditOutcome.REJECTED).count();

        // rollback to v1 by number, and to "the previous live version" (which is v1)
        assertThatThrownBy(() -> registry.rollback(MODEL, "staging", 1, "alice", "v2 misbehaves"))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                .hasMessageContaining(expected).hasMessageContaining("(reason: retention: not live or a candidate anywhere")
                .hasMessageContaining("cannot be restored in staging by a rollback");
        assertThatThrownBy(() -> registry.rollback(MODEL, "staging", null, "alice", "v2 misbehaves"))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                .hasMessageContaining(expected);
        // a promotion of v1, and a direct pointer move
        assertThatThrownBy(() -> registry.openPromotion("promote/" + MODEL + "/v1/staging", MODEL, 1, "staging", "alice", "again"))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                .hasMessageContaining(expected).hasMessageContaining("cannot be promoted to staging");
        assertThatThrownBy(() -> registry.markLive(MODEL, 1, "dev", "alice", "override"))
                .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_STATE))
                .hasMessageContaining(expected);

        // nothing moved, no promotion opened, each refusal audited
        assertThat(registry.live(MODEL, "staging").orElseThrow().version()).isEqualTo(2);
        assertThat(registry.promotion("promote/" + MODEL + "/v1/staging")).isEmpty();
        assertThat(audit("environment.rolled_back")).filteredOn(e -> e.outcome() == AuditOutcome.REJECTED).hasSize(rejectedBefore + 2);
        assertThat(audit("promotion.requested")).filteredOn(e -> e.outcome() == AuditOutcome.REJECTED)
                .anySatisfy(e -> assertThat(e.message()).contains(expected));
    }

    @Test
    @Order(7)
    void aRetriedAttemptOfTheDeletingRunWritesNoSecondSummaryOrPurgeAuditRow() {
        String run = deleted.retentionRun();
        assertThat(auditOfRun("retention.completed", run)).hasSize(1);
        assertThat(auditOfRun("model.artifact_purged", run)).hasSize(1);
        var attempt = new io.trellis.activities.retention.RetentionActivitiesImpl(registry, store, runtime.artifactStore(), runtime.spark(),
                0, Duration.ZERO, Clock.systemUTC());
        RetentionRequest request = new RetentionRequest(RetentionMode.DELETE, AUDITOR, "retention IT");

        // the same activity again for the same retention run, as Temporal retries it, twice
        RetentionReport second = attempt.reclaim(request, run);
        RetentionReport third = attempt.reclaim(request, run);

        // what the first attempt purged is reported again (same bytes), but no audit row is written a second time
        for (RetentionReport retried : List.of(second, third)) {
            assertThat(retried.retentionRun()).isEqualTo(run);
            assertThat(retried.removed()).filteredOn(i -> i.kind().equals(RetentionItem.MODEL_ARTIFACT)).singleElement().satisfies(i -> {
                assertThat(i.subject()).isEqualTo(MODEL + " v1");
                assertThat(i.bytes()).isEqualTo(deleted.removed().stream().filter(d -> d.subject().equals(MODEL + " v1")).findFirst()
                        .orElseThrow().bytes());
            });
        }
        assertThat(auditOfRun("retention.completed", run)).singleElement()
                .satisfies(e -> assertThat(e.message()).contains(deleted.bytesReclaimed() + " bytes reclaimed"));
        assertThat(auditOfRun("model.artifact_purged", run)).singleElement().satisfies(e -> assertThat(e.modelVersion()).isEqualTo(1));
        ModelVersionRecord v1 = registry.version(MODEL, 1).orElseThrow();
        assertThat(store.modelVersionsPurgedBy(run)).containsOnlyKeys(v1.id());
        // a different run id is a different run: it gets its own summary row
        String other = run + "-other";
        attempt.reclaim(request, other);
        attempt.reclaim(request, other);
        assertThat(auditOfRun("retention.completed", other)).hasSize(1);
        assertThat(auditOfRun("model.artifact_purged", other)).isEmpty();
    }

    @Test
    @Order(8)
    void oldPredictionRowsOfTheUnpinnedVersionAreDeletedInOneCommitAndPinnedVersionsRowsStay() {
        String predictions = runtime.lake().resolve("predictions/" + MODEL + "-retention");
        long scoredAt = java.time.Instant.now().minus(Duration.ofDays(2)).getEpochSecond();
        for (int[] versionAndRows : new int[][] {{1, 30}, {2, 20}, {3, 10}}) {
            runtime.spark().range(0, versionAndRows[1], 1, 1).selectExpr("id as customer_id", "0.5d as score", "1 as prediction",
                            "'" + MODEL + "' as model_name", "cast(" + versionAndRows[0] + " as int) as model_version", "'score-it' as run_key",
                            "cast(" + scoredAt + " as timestamp) as scored_at", "'lake/source' as source_table", "cast(0 as bigint) as source_version")
                    .coalesce(1).write().format("delta").mode("append").save(predictions);
        }
        // one recorded version per scoring commit, as batch scoring records them
        for (long v = 0; v <= 2; v++) {
            registry.recordDatasetVersion(predictions, v, 10, io.trellis.metadata.DatasetKind.PREDICTIONS, null);
        }
        java.util.function.LongFunction<Map<Long, Long>> rowsPerVersion = version -> {
            Map<Long, Long> out = new java.util.TreeMap<>();
            DeltaTables.read(runtime.spark(), new DatasetVersion(predictions, version)).groupBy("model_version").count().collectAsList()
                    .forEach(r -> out.put((long) r.getInt(0), r.getLong(1)));
            return out;
        };
        String v1Rows = predictions + " " + MODEL + " v1: 30 rows";

        RetentionReport dry = retention(RetentionMode.DRY_RUN);

        assertThat(subjects(dry.removed(), RetentionItem.PREDICTION_ROWS)).containsExactly(v1Rows);
        assertThat(DeltaTables.latestVersion(runtime.spark(), predictions)).as("a dry run changes nothing").isEqualTo(2);

        RetentionReport done = retention(RetentionMode.DELETE);

        assertThat(subjects(done.removed(), RetentionItem.PREDICTION_ROWS)).containsExactly(v1Rows);
        assertThat(done.warnings()).isEmpty();
        // the DELETE is version 3 (Delta 4 then logs the VACUUM's start and end as versions 4 and 5)
        assertThat(DeltaTables.versionWithUserMetadata(runtime.spark(), predictions, "trellis-retention:" + done.retentionRun())).hasValue(3);
        assertThat(DeltaTables.operationMetrics(runtime.spark(), predictions, 3)).containsEntry("numDeletedRows", "30");
        assertThat(rowsPerVersion.apply(3)).containsExactly(Map.entry(2L, 20L), Map.entry(3L, 10L));
        assertThat(rowsPerVersion.apply(DeltaTables.latestVersion(runtime.spark(), predictions)))
                .containsExactly(Map.entry(2L, 20L), Map.entry(3L, 10L));
        // the DELETE dropped v1's file whole (its rows were a file of their own); the vacuum (margin 0) then freed it
        assertThat(subjects(done.removed(), RetentionItem.DELTA_FILES)).containsExactly(predictions + "@0..2");
        ModelVersionRecord v1 = registry.version(MODEL, 1).orElseThrow();
        assertThat(store.purgedAt(PurgedSubject.MODEL_PREDICTIONS, v1.id())).isPresent();
        assertThat(store.purgedAt(PurgedSubject.MODEL_PREDICTIONS, registry.version(MODEL, 2).orElseThrow().id())).isEmpty();
        assertThat(store.purgedAt(PurgedSubject.MODEL_PREDICTIONS, registry.version(MODEL, 3).orElseThrow().id())).isEmpty();

        // the next run finds no rows left to delete
        RetentionReport again = retention(RetentionMode.DELETE);
        assertThat(subjects(again.removed(), RetentionItem.PREDICTION_ROWS)).isEmpty();
        assertThat(DeltaTables.versionWithUserMetadata(runtime.spark(), predictions, "trellis-retention:" + again.retentionRun())).isEmpty();
    }
}
