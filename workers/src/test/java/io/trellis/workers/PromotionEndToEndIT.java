package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.client.WorkflowUpdateException;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.PromotionWorkflow;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringRunResult;
import io.trellis.workflows.promotion.ScoringWorkflow;
import io.temporal.client.WorkflowOptions;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.StageReport;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The promotion lifecycle with the real activities: gates on real holdouts, the staging shadow run writing real
 * Delta predictions, approvals checked against PostgreSQL (roles, four-eyes), pointer history, rollback.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PromotionEndToEndIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private TrellisRuntime runtime;
    private Registry registry;
    private PromotionRunner promotions;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private PrintStream out;

    @BeforeAll
    void startStack() {
        runtime = TrellisRuntime.open(TestingTrellisConfig.forTestClass(PromotionEndToEndIT.class));
        registry = runtime.registry();
        out = new PrintStream(output, true, StandardCharsets.UTF_8);
        promotions = new PromotionRunner(runtime, out);
        new LocalRetrain(runtime, out).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        registry.applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
    }

    @AfterAll
    void stopStack() {
        runtime.close();
    }

    private int retrain() {
        RetrainRunner.Outcome outcome = new RetrainRunner(runtime, out).run(new RetrainRequest(MODEL, "alice", "promotion e2e"));
        assertThat(outcome.status()).isEqualTo(RunStatus.SUCCEEDED);
        return outcome.result().version();
    }

    private List<String> auditActions(String key) {
        return registry.auditTrail(new AuditQuery(null, key, 200)).stream().map(a -> a.action() + ":" + a.outcome()).toList();
    }

    @Test
    @Order(1)
    void aVersionGoesThroughStagingAndReachesProductionOnlyWithAFourEyesApproval() {
        int v1 = retrain();
        PromotionWorkflow wf = promotions.start(new PromotionRequest(MODEL, v1, "production", "alice", "first release"));
        PromotionRunner.Outcome waiting = promotions.follow(wf, Duration.ofMinutes(5));
        assertThat(waiting.status()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);
        String key = waiting.promotionKey();
        assertThat(registry.live(MODEL, "staging")).hasValueSatisfying(d -> assertThat(d.version()).isEqualTo(v1));
        assertThat(registry.live(MODEL, "production")).isEmpty();

        // The staging shadow run wrote the candidate's predictions, tagged with its version.
        StageReport staging = wf.progress().stages().get(0);
        assertThat(staging.shadow()).isNotNull();
        assertThat(staging.shadow().productionVersion()).isNull();
        List<Row> tags = runtime.spark().read().format("delta")
                .load(ScoringActivitiesImpl.predictionsTable(runtime.lake(), MODEL, "staging"))
                .groupBy("model_version").count().collectAsList();
        assertThat(tags).singleElement().satisfies(r -> {
            assertThat(r.getInt(0)).isEqualTo(v1);
            assertThat(r.getLong(1)).isEqualTo(staging.shadow().rows()).isPositive();
        });

        // alice triggered the retrain: four-eyes refuses her; bob needs the approver role first.
        assertThatThrownBy(() -> promotions.decide(key, new ApprovalDecision("alice", Verdict.APPROVE, null)))
                .isInstanceOf(WorkflowUpdateException.class);
        assertThatThrownBy(() -> promotions.decide(key, new ApprovalDecision("bob", Verdict.APPROVE, null)))
                .isInstanceOf(WorkflowUpdateException.class);
        registry.grantRoles("bob", java.util.Set.of(PrincipalRole.APPROVER), "admin");
        registry.grantRoles("alice", java.util.Set.of(PrincipalRole.APPROVER), "admin");
        assertThatThrownBy(() -> promotions.decide(key, new ApprovalDecision("alice", Verdict.APPROVE, null)))
                .isInstanceOf(WorkflowUpdateException.class);
        promotions.decide(key, new ApprovalDecision("bob", Verdict.APPROVE, "ok"));
        PromotionRunner.Outcome done = promotions.follow(wf, Duration.ofMinutes(5));

        assertThat(done.status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(registry.live(MODEL, "production")).hasValueSatisfying(d -> {
            assertThat(d.version()).isEqualTo(v1);
            assertThat(d.deployedBy()).isEqualTo("bob");
        });
        List<AuditEntry> refusals = registry.auditTrail(new AuditQuery(null, key, 200)).stream()
                .filter(a -> a.outcome().name().equals("REJECTED")).toList();
        assertThat(refusals).hasSize(3);
        assertThat(auditActions(key)).contains("promotion.requested:SUCCESS", "environment.deployed:SUCCESS");
    }

    @Test
    @Order(2)
    void theNextVersionIsShadowedAgainstProductionAndCanBeRolledBack() {
        int v2 = retrain();
        PromotionWorkflow wf = promotions.start(new PromotionRequest(MODEL, v2, "production", "alice", "second release"));
        PromotionRunner.Outcome waiting = promotions.follow(wf, Duration.ofMinutes(5));
        assertThat(waiting.status()).as(() -> "stages: " + wf.progress().stages()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);

        StageReport staging = wf.progress().stages().get(0);
        assertThat(staging.championVersion()).isEqualTo(1);
        assertThat(staging.shadow().productionVersion()).isEqualTo(1);
        // same data and seed: both versions predict alike
        assertThat(staging.shadow().agreementRate()).isEqualTo(1.0);
        assertThat(staging.shadow().scorePsi()).isLessThan(1e-6);

        promotions.decide(waiting.promotionKey(), new ApprovalDecision("bob", Verdict.APPROVE, null));
        assertThat(promotions.follow(wf, Duration.ofMinutes(5)).status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(registry.live(MODEL, "production")).hasValueSatisfying(d -> assertThat(d.version()).isEqualTo(v2));

        DeploymentRecord restored = registry.rollback(MODEL, "production", null, "bob", "latency regression");
        assertThat(restored.version()).isEqualTo(1);
        assertThat(registry.liveHistory(MODEL, "production")).extracting(d -> "v" + d.version() + (d.isOpen() ? ":open" : ":closed"))
                .containsExactly("v1:closed", "v2:closed", "v1:open");
        assertThat(registry.auditTrail(new AuditQuery(MODEL, null, 500))).anySatisfy(a -> {
            assertThat(a.action()).isEqualTo("environment.rolled_back");
            assertThat(a.actor()).isEqualTo("bob");
        });

        PromotionRunner.printEnvironments(registry, MODEL, out);
        assertThat(output.toString(StandardCharsets.UTF_8)).contains("Environments of customer-churn", "production  live v1");
    }

    @Test
    @Order(3)
    void batchScoringUsesTheVersionLiveInTheEnvironmentAtTheRunsStart() {
        ScoringWorkflow wf = runtime.client().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(ScoringWorkflow.workflowId(MODEL, "production", "e2e"))
                .build());
        ScoringRunResult result = wf.run(new ScoringRequest(MODEL, "production", "scheduler"));

        assertThat(result.version()).isEqualTo(1);
        assertThat(result.scoring().windowTo()).isNotNull();
        List<Row> rows = runtime.spark().read().format("delta")
                .load(ScoringActivitiesImpl.predictionsTable(runtime.lake(), MODEL, "production"))
                .groupBy("model_version", "run_key").count().collectAsList();
        assertThat(rows).singleElement().satisfies(r -> {
            assertThat(r.getInt(0)).isEqualTo(1);
            assertThat(r.getString(1)).isEqualTo(result.runKey());
            assertThat(r.getLong(2)).isEqualTo(result.scoring().rows()).isPositive();
        });
        assertThat(registry.auditTrail(new AuditQuery(null, result.runKey(), 10))).singleElement()
                .satisfies(a -> assertThat(a.action()).isEqualTo("scoring.completed"));
    }
}
