package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.LineageChain;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.Registry;
import io.trellis.spark.DeltaTables;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The real retrain workflow with the real activities: Temporal (the SDK's server on loopback), PostgreSQL,
 * Spark local and Delta tables on a temp lake, on a small generated data set.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RetrainEndToEndIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private TrellisRuntime runtime;
    private CrashAfterFeatureCommit faults;
    private Registry registry;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private PrintStream out;

    @BeforeAll
    void startStack() {
        runtime = TrellisRuntime.open(TestingTrellisConfig.forTestClass(RetrainEndToEndIT.class), real -> faults = new CrashAfterFeatureCommit(real));
        registry = runtime.registry();
        out = new PrintStream(output, true, StandardCharsets.UTF_8);
        new LocalRetrain(runtime, out).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        apply(SampleModels.customerChurnYaml());
    }

    @AfterAll
    void stopStack() {
        runtime.close();
    }

    private void apply(String yaml) {
        var spec = ModelSpecLoader.parse(yaml);
        registry.applyModelSpec(spec.name(), yaml, ModelSpecLoader.sha256(yaml), spec.environments(), "alice");
    }

    private RetrainRunner.Outcome retrain(String model) {
        output.reset();
        return new RetrainRunner(runtime, out).run(new RetrainRequest(model, "alice", "e2e"));
    }

    private List<String> auditActions(String runKey) {
        return registry.auditTrail(new AuditQuery(null, runKey, 100)).stream().map(AuditEntry::action).toList();
    }

    @Test
    @Order(1)
    void firstRetrainRegistersVersionOneWithLineageAndAuditAndARetriedFeatureWriteCommitsOnce() throws Exception {
        RetrainRunner.Outcome outcome = retrain(MODEL);

        assertThat(outcome.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(outcome.result().version()).isEqualTo(1);
        assertThat(outcome.result().metrics().get("auc")).isGreaterThan(0.70);
        assertThat(outcome.result().metrics()).containsKeys("log_loss", "precision", "recall", "accuracy", "f1");
        assertThat(outcome.result().championVersion()).isNull();

        // The feature step ran twice (the first attempt "crashed" after committing) but Delta holds one commit.
        assertThat(faults.featureAttempts.get()).isEqualTo(2);
        String featureTable = SparkActivitiesImpl.featureTable(runtime.lake(), MODEL);
        assertThat(DeltaTables.userMetadata(runtime.spark(), featureTable)).containsOnlyOnce(outcome.runKey());
        assertThat(outcome.result().features().version()).isEqualTo(0);

        ModelVersionRecord v1 = registry.version(MODEL, 1).orElseThrow();
        assertThat(v1.status().name()).isEqualTo("REGISTERED");
        assertThat(v1.metrics()).isEqualTo(outcome.result().metrics());
        assertThat(v1.artifactSha256()).hasSize(64);
        assertThat(v1.codeVersion()).isEqualTo("git:e2e");
        assertThat(v1.params()).containsEntry("maxIter", "50");

        LineageChain chain = registry.lineage(MODEL, 1);
        assertThat(chain.run().runKey()).isEqualTo(outcome.runKey());
        assertThat(chain.inputs()).extracting(i -> i.relation() + "@" + i.dataset().deltaVersion())
                .containsExactlyInAnyOrder("source@" + outcome.result().source().version(), "features@0");
        assertThat(chain.inputs()).filteredOn(i -> i.relation().equals("source")).singleElement()
                .satisfies(i -> assertThat(i.dataset().rowCount()).isEqualTo(3_000));
        assertThat(registry.deployments(MODEL)).filteredOn(DeploymentRecord::isOpen).singleElement()
                .satisfies(d -> {
                    assertThat(d.environment()).isEqualTo("dev");
                    assertThat(d.version()).isEqualTo(1);
                });
        assertThat(auditActions(outcome.runKey())).containsExactly("retrain.started", "data.validated",
                "model.registered", "environment.candidate_set", "retrain.succeeded");

        // Monitoring's reference profile was stored with the version at training time, before any monitoring run: bins
        // of all 20 features and the version's scores of its own training snapshot.
        MonitoringStore.StoredReference profile = runtime.monitoring().reference(MODEL, 1).orElseThrow();
        assertThat(profile.sourceTable()).isEqualTo(outcome.result().source().tablePath());
        assertThat(profile.sourceVersion()).isEqualTo(outcome.result().source().version());
        assertThat(runtime.monitoring().runs(MODEL, 10)).isEmpty();
        JsonNode stored = new ObjectMapper().readTree(profile.profileJson());
        assertThat(stored.path("bins")).hasSize(20);
        assertThat(stored.path("profile").path("rows").asLong()).isEqualTo(3_000);
        assertThat(stored.path("profile").path("scored").asBoolean()).isTrue();
        assertThat(registry.auditTrail(AuditQuery.forModel(MODEL))).filteredOn(a -> a.action().equals("monitoring.reference_computed"))
                .singleElement().satisfies(a -> assertThat(a.modelVersion()).isEqualTo(1));

        String summary = output.toString(StandardCharsets.UTF_8);
        assertThat(summary).contains("SUCCEEDED", "Holdout metrics", "champion: none", "Lineage of customer-churn v1",
                "Audit trail of this run", "build features · attempt 2");
    }

    @Test
    @Order(2)
    void secondRetrainIsComparedWithTheChampionOnTheSameHoldout() {
        RetrainRunner.Outcome outcome = retrain(MODEL);

        assertThat(outcome.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(outcome.result().version()).isEqualTo(2);
        assertThat(outcome.result().championVersion()).isEqualTo(1);
        // Same data, same seed, same pipeline: the champion scores the shared holdout exactly as the candidate.
        Map<String, Double> v1 = registry.version(MODEL, 1).orElseThrow().metrics();
        assertThat(outcome.result().championMetrics().get("auc")).isCloseTo(v1.get("auc"), within(1e-9));
        assertThat(outcome.result().metrics().get("auc")).isCloseTo(v1.get("auc"), within(1e-9));
        assertThat(registry.version(MODEL, 2).orElseThrow().championVersion()).isEqualTo(1);
        assertThat(registry.deployments(MODEL)).filteredOn(d -> d.environment().equals("dev"))
                .extracting(d -> d.version() + (d.isOpen() ? ":open" : ":closed"))
                .containsExactlyInAnyOrder("1:closed", "2:open");
        assertThat(output.toString(StandardCharsets.UTF_8)).contains("champion v1");
    }

    @Test
    @Order(3)
    void dataQualityViolationStopsBeforeTrainingWithTheRuleNamed() {
        apply(SampleModels.customerChurnYaml().replace("name: customer-churn", "name: churn-strict")
                .replace("age: {min: 18, max: 110}", "age: {min: 18, max: 30}"));

        RetrainRunner.Outcome outcome = retrain("churn-strict");

        assertThat(outcome.status()).isEqualTo(RunStatus.VALIDATION_FAILED);
        assertThat(outcome.failureType()).isEqualTo("DATA_VALIDATION_FAILED");
        assertThat(outcome.message()).contains("range on 'age': observed").contains("allowed [18, 30]");
        assertThat(registry.versions("churn-strict")).isEmpty();
        assertThat(registry.validation(outcome.runKey())).hasValueSatisfying(v -> assertThat(v.passed()).isFalse());
        assertThat(auditActions(outcome.runKey())).containsExactly("retrain.started", "data.validated", "retrain.validation_failed");
    }

    @Test
    @Order(4)
    void missingSourceTableFailsWithoutRetryingOrWriting() {
        apply(SampleModels.customerChurnYaml().replace("name: customer-churn", "name: churn-missing")
                .replace("table: raw/customer_churn", "table: raw/does_not_exist"));

        RetrainRunner.Outcome outcome = retrain("churn-missing");

        assertThat(outcome.status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.failureType()).isEqualTo("MISSING_TABLE");
        assertThat(outcome.message()).contains("raw/does_not_exist");
        assertThat(registry.run(outcome.runKey())).hasValueSatisfying(r -> assertThat(r.failureStep()).isEqualTo("snapshot + validate"));
        assertThat(auditActions(outcome.runKey())).containsExactly("retrain.started", "retrain.failed");
        assertThat(java.nio.file.Files.exists(Path.of(runtime.lake().resolve("features/churn-missing")))).isFalse();
    }

    @Test
    @Order(5)
    void specColumnsThatTheTableLacksAreASchemaMismatch() {
        apply(SampleModels.customerChurnYaml().replace("name: customer-churn", "name: churn-drifted")
                .replace("    - referrals\n", "    - referrals\n    - lifetime_value\n"));

        RetrainRunner.Outcome outcome = retrain("churn-drifted");

        assertThat(outcome.status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.failureType()).isEqualTo("SCHEMA_MISMATCH");
        assertThat(outcome.message()).contains("lifetime_value");
    }

    @Test
    @Order(6)
    void unknownModelIsRefusedAndAudited() {
        RetrainRunner.Outcome outcome = retrain("no-such-model");

        assertThat(outcome.status()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.failureType()).isEqualTo("UNKNOWN_MODEL");
        assertThat(registry.auditTrail(new AuditQuery(null, outcome.runKey(), 10))).singleElement()
                .satisfies(a -> assertThat(a.outcome().name()).isEqualTo("FAILURE"));
    }
}
