package io.trellis.workflows.promotion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ScoringWorkflowTest {
    private TestWorkflowEnvironment env;
    private TestingPromotionActivities.Registry registry;
    private TestingPromotionActivities.Scoring scoring;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
        Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
        orchestration.registerWorkflowImplementationTypes(ScoringWorkflowImpl.class);
        registry = new TestingPromotionActivities.Registry();
        scoring = new TestingPromotionActivities.Scoring();
        orchestration.registerActivitiesImplementations(registry);
        sparkWorker.registerActivitiesImplementations(scoring);
        env.start();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private ScoringWorkflow workflow(String label) {
        return env.getWorkflowClient().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(ScoringWorkflow.workflowId("customer-churn", "production", label))
                .build());
    }

    @Test
    void theVersionLiveAtTheRunsStartScoresAndTheRunIsRecorded() {
        registry.live.put("production", 4);

        ScoringRunResult result = workflow("a").run(new ScoringRequest("customer-churn", "production", "scheduler"));

        assertThat(result.version()).isEqualTo(4);
        assertThat(result.scoring().rows()).isEqualTo(250);
        assertThat(scoring.batchRequests).singleElement().satisfies(r -> {
            assertThat(r.runKey()).startsWith("score/customer-churn/production/a#");
            assertThat(r.live().version()).isEqualTo(4);
        });
        assertThat(registry.calls).containsExactly("recordScoring:production:v4:250");
    }

    @Test
    void aCronScheduleScoresOncePerTickEachRunWithItsOwnKeyAndTheVersionLiveAtThatTick() {
        registry.live.put("production", 4);
        ScoringWorkflow scheduled = env.getWorkflowClient().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(ScoringWorkflow.scheduleId("customer-churn", "production"))
                .setCronSchedule("0 * * * *")
                .build());
        io.temporal.client.WorkflowClient.start(scheduled::run, new ScoringRequest("customer-churn", "production", "scheduler"));

        env.sleep(java.time.Duration.ofMinutes(150));
        registry.live.put("production", 5);
        env.sleep(java.time.Duration.ofHours(1));

        assertThat(scoring.batchRequests).hasSizeGreaterThanOrEqualTo(3);
        assertThat(scoring.batchRequests).extracting(BatchScoreRequest::runKey).doesNotHaveDuplicates();
        assertThat(scoring.batchRequests.get(0).live().version()).isEqualTo(4);
        assertThat(scoring.batchRequests.get(scoring.batchRequests.size() - 1).live().version()).isEqualTo(5);
        io.temporal.client.WorkflowStub.fromTyped(scheduled).terminate("test over");
    }

    @Test
    void anEnvironmentWithNothingLiveFailsClearlyWithoutScoring() {
        assertThatThrownBy(() -> workflow("b").run(new ScoringRequest("customer-churn", "production", "scheduler")))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> {
                    ApplicationFailure cause = (ApplicationFailure) e.getCause();
                    assertThat(cause.getType()).isEqualTo("INVALID_STATE");
                    assertThat(cause.getOriginalMessage()).isEqualTo("nothing is live in production");
                });
        assertThat(scoring.batchRequests).isEmpty();
    }
}
