package io.trellis.workflows.promotion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RollbackWorkflowTest {
    private TestWorkflowEnvironment env;
    private TestingPromotionActivities.Registry registry;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
        Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
        orchestration.registerWorkflowImplementationTypes(PromotionWorkflowImpl.class, RollbackWorkflowImpl.class);
        registry = new TestingPromotionActivities.Registry();
        orchestration.registerActivitiesImplementations(registry);
        sparkWorker.registerActivitiesImplementations(new TestingPromotionActivities.Spark(), new TestingPromotionActivities.Scoring());
        env.start();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private <T> T stub(Class<T> type, String id) {
        return env.getWorkflowClient().newWorkflowStub(type, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build());
    }

    private PromotionResult promoteToStaging(int version) {
        PromotionWorkflow wf = stub(PromotionWorkflow.class, PromotionWorkflow.workflowId("customer-churn", version, "staging", "t"));
        return wf.run(new PromotionRequest("customer-churn", version, "staging", "carol", null));
    }

    @Test
    void afterTwoPromotionsARollbackRestoresThePreviousLiveVersion() {
        assertThat(promoteToStaging(1).status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(promoteToStaging(2).status()).isEqualTo(PromotionStatus.DEPLOYED);

        RollbackResult result = stub(RollbackWorkflow.class, RollbackWorkflow.workflowId("customer-churn", "staging", "r1"))
                .run(new RollbackRequest("customer-churn", "staging", null, "bob", "bad scores"));

        assertThat(result.restoredVersion()).isEqualTo(1);
        assertThat(result.replacedVersion()).isEqualTo(2);
        assertThat(registry.live).containsEntry("staging", 1);
        assertThat(registry.calls).contains("rollback:staging:bob");
    }

    @Test
    void withNoEarlierVersionTheRollbackFailsClearlyAndChangesNothing() {
        assertThat(promoteToStaging(1).status()).isEqualTo(PromotionStatus.DEPLOYED);

        RollbackWorkflow wf = stub(RollbackWorkflow.class, RollbackWorkflow.workflowId("customer-churn", "staging", "r2"));
        assertThatThrownBy(() -> wf.run(new RollbackRequest("customer-churn", "staging", null, "bob", "why not")))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> {
                    ApplicationFailure cause = (ApplicationFailure) e.getCause();
                    assertThat(cause.getType()).isEqualTo("INVALID_STATE");
                    assertThat(cause.getOriginalMessage()).contains("no earlier live version");
                });
        assertThat(registry.live).containsEntry("staging", 1);
        assertThat(WorkflowStub.fromTyped(wf).describe().getStatus().name()).contains("FAILED");
    }
}
