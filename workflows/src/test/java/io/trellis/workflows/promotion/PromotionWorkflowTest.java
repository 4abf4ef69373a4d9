package io.trellis.workflows.promotion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retrain.GateResult;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PromotionWorkflowTest {
    private TestWorkflowEnvironment env;
    private WorkflowClient client;
    private TestingPromotionActivities.Registry registry;
    private TestingPromotionActivities.Spark spark;
    private TestingPromotionActivities.Scoring scoring;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
        Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
        orchestration.registerWorkflowImplementationTypes(PromotionWorkflowImpl.class);
        registry = new TestingPromotionActivities.Registry();
        spark = new TestingPromotionActivities.Spark();
        scoring = new TestingPromotionActivities.Scoring();
        orchestration.registerActivitiesImplementations(registry);
        sparkWorker.registerActivitiesImplementations(spark, scoring);
        env.start();
        client = env.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private PromotionWorkflow start(int version, String target) {
        PromotionWorkflow wf = client.newWorkflowStub(PromotionWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(PromotionWorkflow.workflowId("customer-churn", version, target, "t"))
                .build());
        WorkflowClient.start(wf::run, new PromotionRequest("customer-churn", version, target, "carol", "test"));
        return wf;
    }

    private static PromotionResult result(PromotionWorkflow wf) {
        return WorkflowStub.fromTyped(wf).getResult(PromotionResult.class);
    }

    /** Polls the query (no timers fire meanwhile: time only skips while a client waits for a result). */
    private static void awaitStatus(PromotionWorkflow wf, PromotionStatus wanted) {
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            try {
                if (wf.progress().status() == wanted) {
                    return;
                }
            } catch (RuntimeException notYetStarted) {
                // the first workflow task may not have run yet
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("promotion never reached " + wanted + "; last: " + wf.progress());
    }

    @Test
    void passesStagingWithAShadowRunThenWaitsForApprovalAndGoesLiveInProduction() {
        registry.live.put("production", 1);
        PromotionWorkflow wf = start(2, "production");
        awaitStatus(wf, PromotionStatus.AWAITING_APPROVAL);

        assertThat(registry.live).containsEntry("staging", 2).containsEntry("production", 1);
        ApprovalReceipt receipt = wf.decide(new ApprovalDecision("bob", Verdict.APPROVE, "looks good"));
        assertThat(receipt.approver()).isEqualTo("bob");
        PromotionResult result = result(wf);

        assertThat(result.status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(result.liveIn()).isEqualTo("production");
        assertThat(result.decidedBy()).isEqualTo("bob");
        assertThat(registry.live).containsEntry("production", 2);
        assertThat(registry.calls).containsSubsequence("recordStage:staging:passed", "deploy:staging:carol",
                "recordStage:production:passed", "awaitApproval", "recordDecision:bob:APPROVE", "deploy:production:bob",
                "finish:DEPLOYED");
        // staging compared with no live staging version; production compared with production's live v1
        assertThat(spark.calls).containsExactly("evaluate:no-champion", "evaluate:v1");
        assertThat(scoring.requests).singleElement().satisfies(r -> {
            assertThat(r.environment()).isEqualTo("staging");
            assertThat(r.production().version()).isEqualTo(1);
        });
        StageReport staging = result.stages().get(0);
        assertThat(staging.shadow().agreementRate()).isEqualTo(0.97);
        assertThat(staging.gates()).extracting(GateResult::gate)
                .containsExactly("data_quality", "artifact_checksum", "min_auc", "max_log_loss", "beats_champion");
        assertThat(result.stages().get(1).shadow()).isNull();
    }

    @Test
    void aFailedGateStopsThePromotionBeforeAnythingGoesLive() {
        spark.candidate = Map.of("auc", 0.65, "log_loss", 0.55);

        PromotionResult result = result(start(2, "production"));

        assertThat(result.status()).isEqualTo(PromotionStatus.GATE_FAILED);
        assertThat(result.message()).contains("gates failed in staging").contains("auc 0.6500 ≥ 0.7000");
        assertThat(registry.live).doesNotContainKey("staging");
        assertThat(scoring.requests).isEmpty();
        assertThat(registry.calls).contains("recordStage:staging:failed", "finish:GATE_FAILED").noneMatch(c -> c.startsWith("deploy"));
    }

    @Test
    void productionHasItsOwnStricterGatesFromTheSpec() {
        spark.candidate = Map.of("auc", 0.72, "log_loss", 0.50);

        PromotionResult result = result(start(2, "production"));

        assertThat(result.status()).isEqualTo(PromotionStatus.GATE_FAILED);
        assertThat(result.liveIn()).isEqualTo("staging");
        assertThat(result.message()).startsWith("gates failed in production").contains("auc 0.7200 ≥ 0.7500");
        assertThat(registry.calls).doesNotContain("awaitApproval");
    }

    @Test
    void theChallengerMustBeatTheLiveVersionOfThatEnvironment() {
        registry.live.put("staging", 1);
        spark.champion = Map.of("auc", 0.90, "log_loss", 0.30);

        PromotionResult result = result(start(2, "staging"));

        assertThat(result.status()).isEqualTo(PromotionStatus.GATE_FAILED);
        assertThat(result.stages().get(0).championVersion()).isEqualTo(1);
        assertThat(result.message()).contains("vs champion v1 0.9000");
    }

    @Test
    void aTamperedArtifactFailsItsGateWithoutScoring() {
        registry.artifactIntact = false;

        PromotionResult result = result(start(2, "staging"));

        assertThat(result.status()).isEqualTo(PromotionStatus.GATE_FAILED);
        assertThat(result.message()).contains("expected sha-2, found tampered");
        assertThat(spark.calls).isEmpty();
    }

    @Test
    void fourEyesTheRetrainTriggererCannotApproveButSomeoneElseCan() {
        PromotionWorkflow wf = start(2, "production");
        awaitStatus(wf, PromotionStatus.AWAITING_APPROVAL);

        assertThatThrownBy(() -> wf.decide(new ApprovalDecision("alice", Verdict.APPROVE, null)))
                .isInstanceOf(WorkflowUpdateException.class)
                .satisfies(e -> assertThat(((ApplicationFailure) rootApplicationFailure(e)).getOriginalMessage()).isEqualTo("four-eyes: alice triggered the retrain that produced this version and cannot approve it"))
                .satisfies(e -> assertThat(((ApplicationFailure) rootApplicationFailure(e)).getType()).isEqualTo("FORBIDDEN"));
        assertThatThrownBy(() -> wf.decide(new ApprovalDecision("mallory", Verdict.APPROVE, null)))
                .satisfies(e -> assertThat(((ApplicationFailure) rootApplicationFailure(e)).getOriginalMessage()).isEqualTo("mallory does not hold the approver role"));
        assertThat(wf.progress().status()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);

        wf.decide(new ApprovalDecision("bob", Verdict.APPROVE, null));
        assertThat(result(wf).status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThatThrownBy(() -> wf.decide(new ApprovalDecision("dave", Verdict.APPROVE, null)))
                .isInstanceOf(RuntimeException.class);
    }

    @Test
    void aRejectionCarriesItsReasonAndNothingGoesLiveInProduction() {
        PromotionWorkflow wf = start(2, "production");
        awaitStatus(wf, PromotionStatus.AWAITING_APPROVAL);

        assertThatThrownBy(() -> wf.decide(new ApprovalDecision("bob", Verdict.REJECT, " ")))
                .isInstanceOf(WorkflowUpdateException.class)
                .satisfies(e -> assertThat(((ApplicationFailure) rootApplicationFailure(e)).getOriginalMessage()).isEqualTo("a rejection needs a reason"));
        wf.decide(new ApprovalDecision("bob", Verdict.REJECT, "shadow agreement too low for a holiday week"));
        PromotionResult result = result(wf);

        assertThat(result.status()).isEqualTo(PromotionStatus.REJECTED);
        assertThat(result.message()).isEqualTo("rejected by bob: shadow agreement too low for a holiday week");
        assertThat(result.liveIn()).isEqualTo("staging");
        assertThat(registry.live).doesNotContainKey("production");
    }

    @Test
    void anUnansweredApprovalExpiresAfterTheSpecsTimeout() {
        PromotionWorkflow wf = start(2, "production");

        PromotionResult result = result(wf);

        assertThat(result.status()).isEqualTo(PromotionStatus.EXPIRED);
        assertThat(result.message()).contains("no approval decision within PT168H");
        assertThat(registry.live).containsEntry("staging", 2).doesNotContainKey("production");
        Duration ran = WorkflowStub.fromTyped(wf).describe().getExecutionDuration();
        assertThat(ran).isGreaterThanOrEqualTo(Duration.ofDays(7));
        assertThatThrownBy(() -> wf.decide(new ApprovalDecision("bob", Verdict.APPROVE, null))).isInstanceOf(RuntimeException.class);
    }

    @Test
    void twoRacingPromotionsOfOneModelToOneEnvironmentCannotBothWin() throws Exception {
        PromotionWorkflow first = start(2, "production");
        PromotionWorkflow second = start(3, "production");

        // The loser fails at once; the winner holds the slot while it waits for approval.
        PromotionWorkflow winner = null;
        PromotionWorkflow loser = null;
        Instant deadline = Instant.now().plusSeconds(30);
        while (winner == null && Instant.now().isBefore(deadline)) {
            for (PromotionWorkflow wf : new PromotionWorkflow[] {first, second}) {
                String key = WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
                if (registry.active.containsValue(key) && "AWAITING_APPROVAL".equals(registry.statuses.get(key))) {
                    winner = wf;
                    loser = wf == first ? second : first;
                }
            }
            Thread.sleep(20);
        }
        assertThat(winner).as("one promotion reaches the approval gate").isNotNull();
        // Decide before waiting on any result: a client blocked on a result lets time skip, and the winner's
        // seven-day approval timer would fire.
        winner.decide(new ApprovalDecision("bob", Verdict.APPROVE, null));
        assertThat(result(winner).status()).isEqualTo(PromotionStatus.DEPLOYED);
        PromotionWorkflow lost = loser;
        assertThatThrownBy(() -> result(lost))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> {
                    ApplicationFailure cause = (ApplicationFailure) e.getCause();
                    assertThat(cause.getType()).isEqualTo("PROMOTION_CONFLICT");
                    assertThat(cause.getOriginalMessage()).contains("another promotion of customer-churn to production is in progress");
                });
    }

    @Test
    void promotingToStagingNeedsNoApproval() {
        PromotionResult result = result(start(2, "staging"));

        assertThat(result.status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(result.liveIn()).isEqualTo("staging");
        assertThat(registry.calls).doesNotContain("awaitApproval");
    }

    private static Throwable rootApplicationFailure(Throwable e) {
        Throwable found = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ApplicationFailure) {
                found = t;
            }
        }
        return found;
    }
}
