package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each registry operation against the real schema. Tests share one database, so each uses its own model name. */
class RegistryTest {
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static MetadataStore store;
    private static Registry registry;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(RegistryTest.class));
        registry = store.registry();
    }

    @AfterAll
    static void close() {
        store.close();
    }

    // ------------------------------------------------------------ models

    @Test
    void applyModelSpecCreatesModelHistoryAndDefaultEnvironments() {
        ModelRecord created = registry.applyModelSpec("spec-model", "name: spec-model\nv: 1", "sha-1", null, "alice");

        assertThat(created.name()).isEqualTo("spec-model");
        assertThat(created.specSha256()).isEqualTo("sha-1");
        assertThat(registry.findModel("spec-model")).contains(created);
        assertThat(registry.environments("spec-model")).containsExactly("dev", "staging", "production");
        assertThat(auditActions("spec-model")).containsExactly("model.spec_applied");
    }

    @Test
    void applyModelSpecAuditsOnlyChanges() {
        registry.applyModelSpec("respec-model", "v: 1", "sha-1", List.of("dev", "production"), "alice");
        registry.applyModelSpec("respec-model", "v: 1", "sha-1", List.of("dev", "production"), "alice");
        assertThat(registry.auditTrail(AuditQuery.forModel("respec-model"))).hasSize(1);

        ModelRecord updated = registry.applyModelSpec("respec-model", "v: 2", "sha-2", List.of("dev", "staging", "production"), "bob");

        assertThat(updated.specYaml()).isEqualTo("v: 2");
        assertThat(registry.environments("respec-model")).containsExactly("dev", "staging", "production");
        List<AuditEntry> trail = registry.auditTrail(AuditQuery.forModel("respec-model"));
        assertThat(trail).extracting(AuditEntry::actor).containsExactly("alice", "bob");
        assertThat(trail.get(1).message()).contains("sha-2").contains("was sha-1").contains("environments now dev, staging, production");
        assertThat(trail.get(1).details()).containsEntry("previousSpecSha256", "sha-1");

        // Going back to an earlier spec is a change too, but its history row already exists.
        registry.applyModelSpec("respec-model", "v: 1", "sha-1", List.of("dev", "staging", "production"), "alice");
        assertThat(registry.findModel("respec-model")).get().extracting(ModelRecord::specSha256).isEqualTo("sha-1");
        assertThat(registry.auditTrail(AuditQuery.forModel("respec-model"))).hasSize(3);
    }

    @Test
    void applyModelSpecRejectsDuplicateEnvironments() {
        assertThatThrownBy(() -> registry.applyModelSpec("dup-env", "v: 1", "sha", List.of("dev", "dev"), "alice"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("lists environment 'dev' twice")
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.INVALID_MODEL_SPEC);
        assertThat(registry.findModel("dup-env")).isEmpty();
    }

    // ------------------------------------------------------------ runs

    @Test
    void startRunIsIdempotentOnRunKey() {
        model("start-model");
        RunRecord first = registry.startRun("retrain/start-model/1", "wf-1", "start-model", "schedule", "nightly", "sha", "c1");
        RunRecord again = registry.startRun("retrain/start-model/1", "wf-2", "start-model", "schedule", "nightly", "sha", "c1");

        assertThat(first.status()).isEqualTo(RunStatus.RUNNING);
        assertThat(first.modelName()).isEqualTo("start-model");
        assertThat(again).isEqualTo(first);
        assertThat(registry.run("retrain/start-model/1")).contains(first);
        assertThat(registry.auditTrail(AuditQuery.forRun("retrain/start-model/1")))
                .extracting(AuditEntry::action, AuditEntry::outcome, AuditEntry::actor)
                .containsExactly(tuple("retrain.started", AuditOutcome.SUCCESS, "schedule"));
    }

    @Test
    void aSecondRunOfAModelIsSkippedWhileOneIsRunningAndAudited() {
        model("overlap-model");
        registry.startRun("retrain/overlap-model/a", "wf-a", "overlap-model", "alice", null, "sha", "c1");

        assertThatThrownBy(() -> registry.startRun("retrain/overlap-model/b", "wf-b", "overlap-model", "bob", null, "sha", "c1"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("Model overlap-model already has a retrain running: retrain/overlap-model/a (triggered by alice")
                .hasMessageContaining("run retrain/overlap-model/b was skipped")
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.RETRAIN_ALREADY_RUNNING);
        assertThat(registry.run("retrain/overlap-model/b")).isEmpty();
        assertThat(registry.auditTrail(AuditQuery.forRun("retrain/overlap-model/b")))
                .singleElement().satisfies(a -> {
                    assertThat(a.action()).isEqualTo("retrain.skipped");
                    assertThat(a.outcome()).isEqualTo(AuditOutcome.REJECTED);
                    assertThat(a.actor()).isEqualTo("bob");
                });
        // A retry of the running run's own start is not an overlap.
        assertThat(registry.startRun("retrain/overlap-model/a", "wf-a", "overlap-model", "alice", null, "sha", "c1").status())
                .isEqualTo(RunStatus.RUNNING);

        registry.finishRun("retrain/overlap-model/a", RunStatus.SUCCEEDED, null, null, "alice");
        assertThat(registry.startRun("retrain/overlap-model/c", "wf-c", "overlap-model", "bob", null, "sha", "c1").status())
                .isEqualTo(RunStatus.RUNNING);
        registry.finishRun("retrain/overlap-model/c", RunStatus.FAILED, "train", "test", "bob");
    }

    @Test
    void ofManyRunsOfOneModelStartedAtOnceExactlyOneStarts() throws Exception {
        model("race-model");
        int racers = 8;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(racers);
        try {
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<Boolean>> started = new java.util.ArrayList<>();
            for (int i = 0; i < racers; i++) {
                String runKey = "retrain/race-model/" + i;
                started.add(pool.submit(() -> {
                    go.await();
                    try {
                        registry.startRun(runKey, "wf", "race-model", "schedule", null, "sha", "c1");
                        return true;
                    } catch (TrellisException e) {
                        assertThat(e.code()).isEqualTo(ErrorCode.RETRAIN_ALREADY_RUNNING);
                        return false;
                    }
                }));
            }
            go.countDown();
            int winners = 0;
            for (var f : started) {
                winners += f.get(60, java.util.concurrent.TimeUnit.SECONDS) ? 1 : 0;
            }
            assertThat(winners).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(registry.auditTrail(AuditQuery.forModel("race-model")))
                .filteredOn(a -> a.action().equals("retrain.skipped")).hasSize(racers - 1);
    }

    @Test
    void abandoningRunningRunsClosesThemAsFailedWithAnAuditRowEach() {
        model("orphan-model");
        registry.startRun("retrain/orphan-model/1", "wf", "orphan-model", "alice", null, "sha", "c1");

        List<String> abandoned = registry.abandonRunningRuns("trellis", "its Temporal server is gone");

        assertThat(abandoned).contains("retrain/orphan-model/1");
        assertThat(registry.run("retrain/orphan-model/1")).hasValueSatisfying(r -> {
            assertThat(r.status()).isEqualTo(RunStatus.FAILED);
            assertThat(r.failureMessage()).isEqualTo("abandoned: its Temporal server is gone");
        });
        assertThat(registry.auditTrail(AuditQuery.forRun("retrain/orphan-model/1"))).extracting(AuditEntry::action)
                .containsExactly("retrain.started", "retrain.abandoned");
        OPEN_RUNS.clear(); // every run other tests left open was closed too
    }

    @Test
    void startRunForUnknownModelFailsAndAuditsTheFailure() {
        assertThatThrownBy(() -> registry.startRun("retrain/ghost/1", "wf", "ghost", "bob", null, null, null))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("No model named 'ghost' is registered")
                .hasMessageContaining("Apply the model's spec first")
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL);

        assertThat(registry.run("retrain/ghost/1")).isEmpty();
        assertThat(registry.auditTrail(AuditQuery.forRun("retrain/ghost/1")))
                .singleElement()
                .satisfies(entry -> {
                    assertThat(entry.action()).isEqualTo("retrain.started");
                    assertThat(entry.outcome()).isEqualTo(AuditOutcome.FAILURE);
                    assertThat(entry.modelName()).isEqualTo("ghost");
                    assertThat(entry.actor()).isEqualTo("bob");
                    assertThat(entry.details()).containsEntry("errorCode", "UNKNOWN_MODEL");
                });
    }

    @Test
    void updateRunStepTracksProgressUntilTheRunFinishes() {
        model("step-model");
        String runKey = run("step-model");
        registry.updateRunStep(runKey, "validate");
        assertThat(registry.run(runKey)).get().extracting(RunRecord::currentStep).isEqualTo("validate");

        registry.finishRun(runKey, RunStatus.FAILED, "train", "executor lost", "worker");
        registry.updateRunStep(runKey, "late-retry");
        assertThat(registry.run(runKey)).get().extracting(RunRecord::currentStep).isEqualTo("validate");
    }

    @Test
    void unknownRunIsAnInvalidRequest() {
        assertThatThrownBy(() -> registry.updateRunStep("retrain/nope/1", "train"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("No training run 'retrain/nope/1' is recorded")
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST);
    }

    @Test
    void finishRunOnlyOnceAndAuditsTheOutcome() {
        model("finish-model");
        String ok = run("finish-model");
        register(ok, ModelVersionStatus.REGISTERED);
        RunRecord finished = registry.finishRun(ok, RunStatus.SUCCEEDED, null, null, "worker");
        RunRecord again = registry.finishRun(ok, RunStatus.FAILED, "deploy", "late", "worker");

        assertThat(finished.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(finished.finishedAt()).isNotNull();
        assertThat(again).isEqualTo(finished);
        assertThat(registry.auditTrail(AuditQuery.forRun(ok)))
                .extracting(AuditEntry::action)
                .containsExactly("retrain.started", "model.registered", "retrain.succeeded");
        AuditEntry succeeded = last(ok);
        assertThat(succeeded.outcome()).isEqualTo(AuditOutcome.SUCCESS);
        assertThat(succeeded.modelVersion()).isEqualTo(1);
        assertThat(succeeded.message()).isEqualTo("Run " + ok + " succeeded and produced finish-model v1");

        String gated = run("finish-model");
        RunRecord gateFailed = registry.finishRun(gated, RunStatus.GATE_FAILED, "gate", "auc 0.70 < 0.75", "worker");
        assertThat(gateFailed.failureStep()).isEqualTo("gate");
        assertThat(gateFailed.failureMessage()).isEqualTo("auc 0.70 < 0.75");
        assertThat(last(gated).action()).isEqualTo("retrain.gate_failed");
        assertThat(last(gated).outcome()).isEqualTo(AuditOutcome.REJECTED);

        String invalid = run("finish-model");
        registry.finishRun(invalid, RunStatus.VALIDATION_FAILED, "validate", "12 null labels", "worker");
        assertThat(last(invalid).action()).isEqualTo("retrain.validation_failed");
        assertThat(last(invalid).message()).contains("failed validation at step validate: 12 null labels");

        String failed = run("finish-model");
        registry.finishRun(failed, RunStatus.FAILED, "train", "OOM", "worker");
        assertThat(last(failed).action()).isEqualTo("retrain.failed");
        assertThat(last(failed).outcome()).isEqualTo(AuditOutcome.FAILURE);

        assertThatThrownBy(() -> registry.finishRun(failed, RunStatus.RUNNING, null, null, "worker"))
                .isInstanceOf(TrellisException.class).hasMessageContaining("pass SUCCEEDED");
    }

    // ------------------------------------------------------------ datasets, lineage, validation

    @Test
    void recordDatasetVersionUpsertsByTableAndVersion() {
        DatasetVersionRecord first = registry.recordDatasetVersion("s3://lake/features/ds", 3, 100, DatasetKind.FEATURES, null);
        DatasetVersionRecord again = registry.recordDatasetVersion("s3://lake/features/ds", 3, 100, DatasetKind.FEATURES, null);
        DatasetVersionRecord next = registry.recordDatasetVersion("s3://lake/features/ds", 4, 120, DatasetKind.FEATURES, null);

        assertThat(again).isEqualTo(first);
        assertThat(first.kind()).isEqualTo(DatasetKind.FEATURES);
        assertThat(next.id()).isNotEqualTo(first.id());
    }

    @Test
    void recordIngestionIsIdempotentOnIngestKey() {
        DatasetVersionRecord first = registry.recordIngestion("s3://lake/raw/ing", 7, 500, "ingest-7", "loader");
        DatasetVersionRecord again = registry.recordIngestion("s3://lake/raw/ing", 7, 500, "ingest-7", "loader");

        assertThat(again).isEqualTo(first);
        assertThat(first.kind()).isEqualTo(DatasetKind.RAW);
        assertThat(first.ingestKey()).isEqualTo("ingest-7");
        List<AuditEntry> ingested = registry.auditTrail(AuditQuery.all()).stream()
                .filter(e -> e.action().equals("dataset.ingested") && "ingest-7".equals(e.details().get("ingestKey")))
                .toList();
        assertThat(ingested).singleElement().extracting(AuditEntry::message)
                .isEqualTo("Ingested 500 rows into s3://lake/raw/ing as Delta version 7 (ingest key ingest-7)");

        assertThatThrownBy(() -> registry.recordDatasetVersion("s3://lake/raw/other", 1, 1, DatasetKind.RAW, "ingest-7"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("Ingest key 'ingest-7' already names s3://lake/raw/ing at Delta version 7");
    }

    @Test
    void recordValidationOncePerRunWithReadableAudit() {
        model("valid-model");
        String runKey = run("valid-model");
        DatasetVersionRecord ds = registry.recordDatasetVersion("s3://lake/raw/valid", 1, 42, DatasetKind.RAW, null);

        ValidationRecord first = registry.recordValidation(runKey, ds.id(), false, Map.of("summary", "label has 3 nulls", "nullLabels", 3));
        ValidationRecord again = registry.recordValidation(runKey, ds.id(), true, Map.of());

        assertThat(again).isEqualTo(first);
        assertThat(first.passed()).isFalse();
        assertThat(registry.validation(runKey)).contains(first);
        AuditEntry audit = last(runKey);
        assertThat(audit.action()).isEqualTo("data.validated");
        assertThat(audit.outcome()).isEqualTo(AuditOutcome.FAILURE);
        assertThat(audit.message()).isEqualTo("Data validation failed for run " + runKey
                + " on s3://lake/raw/valid at Delta version 1 (42 rows): label has 3 nulls");
        assertThat(audit.details()).containsEntry("nullLabels", 3);
    }

    @Test
    void lineageLinksDatasetsRunVersionDeploymentsAndHistory() {
        model("lineage-model");
        String runKey = run("lineage-model");
        DatasetVersionRecord raw = registry.recordDatasetVersion("s3://lake/raw/lin", 5, 1000, DatasetKind.RAW, null);
        DatasetVersionRecord features = registry.recordDatasetVersion("s3://lake/features/lin", 2, 990, DatasetKind.FEATURES, null);
        registry.recordRunInput(runKey, raw.id(), "source");
        registry.recordRunInput(runKey, features.id(), "features");
        registry.recordRunInput(runKey, features.id(), "features");
        register(runKey, ModelVersionStatus.REGISTERED);
        registry.markCandidate(runKey, "lineage-model", 1, "staging", "worker");
        registry.recordAudit("carol", "approval.granted", AuditOutcome.SUCCESS, "lineage-model", 1, runKey, "looks good", Map.of("ticket", "T-1"));

        LineageChain chain = registry.lineage("lineage-model", 1);

        assertThat(chain.version().version()).isEqualTo(1);
        assertThat(chain.version().runKey()).isEqualTo(runKey);
        assertThat(chain.run().runKey()).isEqualTo(runKey);
        assertThat(chain.inputs()).extracting(i -> i.dataset().tablePath(), LineageInput::relation)
                .containsExactly(tuple("s3://lake/raw/lin", "source"), tuple("s3://lake/features/lin", "features"));
        assertThat(chain.deployments()).extracting(DeploymentRecord::environment, DeploymentRecord::role, DeploymentRecord::isOpen)
                .containsExactly(tuple("staging", DeploymentRole.CANDIDATE, true));
        assertThat(chain.history()).extracting(AuditEntry::action)
                .containsExactly("model.registered", "environment.candidate_set", "approval.granted");

        assertThatThrownBy(() -> registry.lineage("lineage-model", 9))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("Model lineage-model has no version 9; its versions are 1 to 1.")
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL_VERSION);
    }

    // ------------------------------------------------------------ versions

    @Test
    void registerModelVersionOncePerRun() {
        model("reg-model");
        String first = run("reg-model");
        String second = run("reg-model");

        RegisteredVersion v1 = register(first, ModelVersionStatus.REGISTERED);
        RegisteredVersion v1Again = register(first, ModelVersionStatus.REGISTERED);
        RegisteredVersion v2 = register(second, ModelVersionStatus.REJECTED);

        assertThat(v1).isEqualTo(new RegisteredVersion(1, true));
        assertThat(v1Again).isEqualTo(new RegisteredVersion(1, false));
        assertThat(v2).isEqualTo(new RegisteredVersion(2, true));
        assertThat(registry.versions("reg-model"))
                .extracting(ModelVersionRecord::version, ModelVersionRecord::status, ModelVersionRecord::runKey)
                .containsExactly(tuple(1, ModelVersionStatus.REGISTERED, first), tuple(2, ModelVersionStatus.REJECTED, second));
        ModelVersionRecord stored = registry.version("reg-model", 1).orElseThrow();
        assertThat(stored.metrics()).containsEntry("auc", 0.81);
        assertThat(stored.params()).containsEntry("maxIter", 20);
        assertThat(stored.gateResults()).singleElement().satisfies(g -> assertThat(g).containsEntry("passed", true));
        assertThat(stored.championVersion()).isNull();
        assertThat(registry.version("reg-model", 3)).isEmpty();
        assertThat(registry.auditTrail(AuditQuery.forModel("reg-model")))
                .filteredOn(e -> e.action().equals("model.registered"))
                .extracting(AuditEntry::modelVersion, AuditEntry::outcome)
                .containsExactly(tuple(1, AuditOutcome.SUCCESS), tuple(2, AuditOutcome.REJECTED));
    }

    // ------------------------------------------------------------ deployments and champion

    @Test
    void markCandidateMovesThePointerAndIsIdempotent() {
        model("cand-model");
        String r1 = run("cand-model");
        String r2 = run("cand-model");
        register(r1, ModelVersionStatus.REGISTERED);
        register(r2, ModelVersionStatus.REGISTERED);

        DeploymentRecord first = registry.markCandidate(r1, "cand-model", 1, "staging", "worker");
        DeploymentRecord repeat = registry.markCandidate(r1, "cand-model", 1, "staging", "worker");
        registry.markCandidate(r2, "cand-model", 2, "staging", "worker");

        assertThat(repeat).isEqualTo(first);
        List<DeploymentRecord> rows = registry.deployments("cand-model");
        assertThat(rows).extracting(DeploymentRecord::version, DeploymentRecord::isOpen, DeploymentRecord::runKey)
                .containsExactly(tuple(1, false, r1), tuple(2, true, r2));
        assertThat(registry.auditTrail(AuditQuery.forModel("cand-model")))
                .filteredOn(e -> e.action().equals("environment.candidate_set"))
                .extracting(AuditEntry::message)
                .containsExactly("cand-model v1 is now the candidate in staging (there was none before)",
                        "cand-model v2 is now the candidate in staging (was v1)");
    }

    @Test
    void markCandidateRejectsUnknownEnvironmentVersionAndRejectedVersions() {
        model("bad-cand");
        String r1 = run("bad-cand");
        String r2 = run("bad-cand");
        register(r1, ModelVersionStatus.REGISTERED);
        register(r2, ModelVersionStatus.REJECTED);

        assertThatThrownBy(() -> registry.markCandidate(r1, "bad-cand", 1, "qa", "worker"))
                .isInstanceOf(TrellisException.class)
                .hasMessage("Model bad-cand has no environment 'qa'; its environments are dev, staging, production."
                        + " Use one of those, or add it to the spec's environments and apply the spec.");
        assertThatThrownBy(() -> registry.markCandidate(r1, "bad-cand", 5, "staging", "worker"))
                .isInstanceOf(TrellisException.class)
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL_VERSION);
        assertThatThrownBy(() -> registry.markCandidate(r2, "bad-cand", 2, "staging", "worker"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("bad-cand v2 is REJECTED");
        assertThatThrownBy(() -> registry.markCandidate(r1, "no-such-model", 1, "staging", "worker"))
                .isInstanceOf(TrellisException.class)
                .extracting(e -> ((TrellisException) e).code()).isEqualTo(ErrorCode.UNKNOWN_MODEL);

        assertThat(registry.deployments("bad-cand")).isEmpty();
        assertThat(registry.auditTrail(AuditQuery.forModel("bad-cand")))
                .filteredOn(e -> e.action().equals("environment.candidate_set"))
                .extracting(AuditEntry::outcome)
                .containsOnly(AuditOutcome.FAILURE)
                .hasSize(3);
    }

    @Test
    void findChampionPrefersLiveInTheHighestEnvironmentThenCandidates() {
        model("champ-model");
        assertThat(registry.findChampion("champ-model")).isEmpty();
        for (int i = 0; i < 3; i++) {
            register(run("champ-model"), ModelVersionStatus.REGISTERED);
        }

        registry.markCandidate(null, "champ-model", 1, "dev", "worker");
        registry.markCandidate(null, "champ-model", 2, "staging", "worker");
        assertThat(registry.findChampion("champ-model")).get()
                .extracting(ChampionRecord::version, ChampionRecord::environment, ChampionRecord::role)
                .containsExactly(2, "staging", DeploymentRole.CANDIDATE);

        registry.markLive("champ-model", 1, "dev", "alice", "smoke tested");
        assertThat(registry.findChampion("champ-model")).get()
                .extracting(ChampionRecord::version, ChampionRecord::environment, ChampionRecord::role)
                .containsExactly(1, "dev", DeploymentRole.LIVE);

        registry.markLive("champ-model", 3, "staging", "alice", "soaked");
        registry.markLive("champ-model", 3, "production", "alice", "approved");
        ChampionRecord champion = registry.findChampion("champ-model").orElseThrow();
        assertThat(champion.version()).isEqualTo(3);
        assertThat(champion.environment()).isEqualTo("production");
        assertThat(champion.artifactUri()).isEqualTo("s3://artifacts/champ-model/" + runOfVersion("champ-model", 3));
        assertThat(champion.artifactBytes()).isEqualTo(1234L);
    }

    @Test
    void auditTrailFiltersAndKeepsTheNewestEntriesOldestFirst() {
        for (int i = 1; i <= 5; i++) {
            registry.recordAudit("dave", "test.trail", AuditOutcome.SUCCESS, "trail-model", null, null, "entry " + i, null);
        }
        assertThat(registry.auditTrail(AuditQuery.forModel("trail-model").withLimit(3)))
                .extracting(AuditEntry::message)
                .containsExactly("entry 3", "entry 4", "entry 5");
    }

    // ------------------------------------------------------------ helpers

    private static void model(String name) {
        registry.applyModelSpec(name, "name: " + name, "sha-" + name, null, "alice");
    }

    /** Starts a run of the model, closing the model's previous one first (runs of one model never overlap). */
    private static String run(String modelName) {
        String previous = OPEN_RUNS.get(modelName);
        if (previous != null) {
            registry.finishRun(previous, RunStatus.SUCCEEDED, null, null, "schedule");
        }
        String runKey = "retrain/" + modelName + "/" + RUNS.incrementAndGet();
        registry.startRun(runKey, "wf-" + runKey, modelName, "schedule", null, "sha-" + modelName, "c1");
        OPEN_RUNS.put(modelName, runKey);
        return runKey;
    }

    private static final java.util.Map<String, String> OPEN_RUNS = new java.util.concurrent.ConcurrentHashMap<>();

    private static RegisteredVersion register(String runKey, ModelVersionStatus status) {
        String modelName = registry.run(runKey).orElseThrow().modelName();
        return registry.registerModelVersion(new ModelVersionRegistration(runKey, "gbt",
                "s3://artifacts/" + modelName + "/" + runKey, "artifact-sha", 1234L,
                Map.of("maxIter", 20), Map.of("auc", 0.81), null, null,
                List.of(Map.of("gate", "auc >= 0.75", "passed", status == ModelVersionStatus.REGISTERED)),
                status, "c1", "worker"));
    }

    private static String runOfVersion(String modelName, int version) {
        return registry.version(modelName, version).orElseThrow().runKey();
    }

    private static AuditEntry last(String runKey) {
        List<AuditEntry> trail = registry.auditTrail(AuditQuery.forRun(runKey));
        return trail.get(trail.size() - 1);
    }

    private static List<String> auditActions(String modelName) {
        return registry.auditTrail(AuditQuery.forModel(modelName)).stream().map(AuditEntry::action).toList();
    }
}
