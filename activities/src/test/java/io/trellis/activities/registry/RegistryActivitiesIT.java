package io.trellis.activities.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.Registry;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.ModelDefinition;
import io.trellis.workflows.activities.RegisterRequest;
import io.trellis.workflows.activities.RegisteredVersion;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.RunOutcome;
import io.trellis.workflows.activities.RunStart;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.TrainResult;
import io.trellis.workflows.retrain.GateResult;
import io.trellis.workflows.retrain.RunStatus;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The registry activities against a real PostgreSQL with the real migrations. */
class RegistryActivitiesIT {
    private static MetadataStore store;
    private static Registry registry;
    private static RegistryActivitiesImpl activities;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(RegistryActivitiesIT.class));
        registry = store.registry();
        activities = new RegistryActivitiesImpl(registry, "git:test");
        String yaml = SampleModels.customerChurnYaml();
        registry.applyModelSpec("customer-churn", yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
    }

    @AfterAll
    static void close() {
        store.close();
    }

    @Test
    void aWholeRunIsRecordedOnceEvenWhenEveryCallIsRepeated() {
        String runKey = "retrain/customer-churn/it-1";
        RunStart start = new RunStart(runKey, "wf-run-1", "customer-churn", "alice", "test");
        ModelDefinition def = activities.startRun(start);
        activities.startRun(start);
        assertThat(def.spec().name()).isEqualTo("customer-churn");
        assertThat(def.specSha256()).isEqualTo(ModelSpecLoader.sha256(SampleModels.customerChurnYaml()));

        SnapshotResult snapshot = new SnapshotResult(new DatasetRef("/lake/raw/customer_churn", 4, 2000), true,
                List.of(new RuleResult("min_rows", null, "2000", "≥ 500", true)));
        activities.recordSnapshot(runKey, snapshot);
        activities.recordSnapshot(runKey, snapshot);
        FeatureResult features = new FeatureResult(new DatasetRef("/lake/features/customer-churn", 0, 2000), 1600, 400);
        activities.recordFeatures(runKey, features);
        activities.recordFeatures(runKey, features);

        RegisterRequest register = new RegisterRequest(runKey, "customer-churn",
                new TrainResult(new ArtifactRef("file:/artifacts/x", "ab".repeat(32), 99), "logistic_regression",
                        Map.of("maxIter", "50"), 1600, 1000),
                new EvaluationResult(Map.of("auc", 0.81), null, null, null, 400),
                List.of(new GateResult("min_auc", "auc", 0.81, 0.7, true, "auc 0.81 ≥ 0.70")), true, "alice");
        RegisteredVersion v = activities.registerModelVersion(register);
        RegisteredVersion again = activities.registerModelVersion(register);
        assertThat(v).isEqualTo(new RegisteredVersion(1, true));
        assertThat(again).isEqualTo(new RegisteredVersion(1, false));
        activities.markCandidate(runKey, "customer-churn", 1, "dev", "alice");
        activities.markCandidate(runKey, "customer-churn", 1, "dev", "alice");
        RunOutcome done = new RunOutcome(runKey, "customer-churn", RunStatus.SUCCEEDED, null, "ok", "alice");
        activities.finishRun(done);
        activities.finishRun(done);

        var chain = registry.lineage("customer-churn", 1);
        assertThat(chain.inputs()).extracting(i -> i.relation() + ":" + i.dataset().tablePath() + "@" + i.dataset().deltaVersion())
                .containsExactlyInAnyOrder("source:/lake/raw/customer_churn@4", "features:/lake/features/customer-churn@0");
        assertThat(chain.version().codeVersion()).isEqualTo("git:test");
        assertThat(chain.version().gateResults()).singleElement().satisfies(g -> assertThat(g).containsEntry("gate", "min_auc"));
        assertThat(registry.findChampion("customer-churn")).hasValueSatisfying(c -> assertThat(c.version()).isEqualTo(1));
        assertThat(registry.validation(runKey)).hasValueSatisfying(val -> assertThat(val.passed()).isTrue());
        List<String> actions = registry.auditTrail(new AuditQuery(null, runKey, 100)).stream().map(AuditEntry::action).toList();
        assertThat(actions).containsExactly("retrain.started", "data.validated", "model.registered",
                "environment.candidate_set", "retrain.succeeded");
    }

    @Test
    void anUnknownModelIsANonRetryableFailureWithAnAuditRow() {
        assertThatThrownBy(() -> activities.startRun(new RunStart("retrain/nope/1", "r", "nope", "bob", null)))
                .isInstanceOf(ApplicationFailure.class)
                .satisfies(e -> {
                    ApplicationFailure af = (ApplicationFailure) e;
                    assertThat(af.getType()).isEqualTo("UNKNOWN_MODEL");
                    assertThat(af.isNonRetryable()).isTrue();
                    assertThat(af.getOriginalMessage()).contains("nope");
                });
        assertThat(registry.auditTrail(new AuditQuery(null, "retrain/nope/1", 10)))
                .singleElement().satisfies(a -> {
                    assertThat(a.action()).isEqualTo("retrain.started");
                    assertThat(a.outcome().name()).isEqualTo("FAILURE");
                    assertThat(a.actor()).isEqualTo("bob");
                });
    }

    @Test
    void aStoredSpecThatNoLongerParsesFailsTheRunClearly() {
        registry.applyModelSpec("broken", "name: broken\nsource: {table: raw/t}\nlabel: y\nfeatures: {numeric: [a]}\nalgorithm: {type: svm}\n",
                "sha-broken", List.of("dev"), "alice");
        assertThatThrownBy(() -> activities.startRun(new RunStart("retrain/broken/1", "r", "broken", "alice", null)))
                .isInstanceOf(ApplicationFailure.class)
                .satisfies(e -> {
                    assertThat(((ApplicationFailure) e).getType()).isEqualTo("INVALID_MODEL_SPEC");
                    assertThat(((ApplicationFailure) e).getOriginalMessage()).contains("algorithm.type: unknown algorithm 'svm'");
                });
        assertThat(registry.run("retrain/broken/1")).hasValueSatisfying(r -> {
            assertThat(r.status().name()).isEqualTo("FAILED");
            assertThat(r.failureStep()).isEqualTo("start run");
        });
    }
}
