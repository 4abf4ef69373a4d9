package io.trellis.workflows.promotion;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** Records representative promotion, rollback and scoring histories (with the fakes) for the replay test. */
public final class PromotionHistories {
    private PromotionHistories() {}

    private interface Scenario {
        String run(WorkflowClient client, TestWorkflowEnvironment env, TestingPromotionActivities.Registry registry) throws Exception;
    }

    public static void record(Path dir) throws Exception {
        run(dir, "promotion-approved", (client, env, registry) -> {
            registry.live.put("production", 1);
            PromotionWorkflow wf = start(client, 2, "production", "approved");
            awaitApproval(wf);
            wf.decide(new ApprovalDecision("bob", Verdict.APPROVE, "ok"));
            WorkflowStub.fromTyped(wf).getResult(PromotionResult.class);
            return WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
        });
        run(dir, "promotion-four-eyes-then-rejected", (client, env, registry) -> {
            PromotionWorkflow wf = start(client, 2, "production", "rejected");
            awaitApproval(wf);
            try {
                wf.decide(new ApprovalDecision("alice", Verdict.APPROVE, null));
            } catch (RuntimeException refused) {
                // four-eyes refusal: part of the history worth replaying
            }
            wf.decide(new ApprovalDecision("bob", Verdict.REJECT, "not this week"));
            WorkflowStub.fromTyped(wf).getResult(PromotionResult.class);
            return WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
        });
        run(dir, "promotion-expired", (client, env, registry) -> {
            PromotionWorkflow wf = start(client, 2, "production", "expired");
            WorkflowStub.fromTyped(wf).getResult(PromotionResult.class);
            return WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
        });
        run(dir, "promotion-gate-failed", (client, env, registry) -> {
            registry.artifactIntact = false;
            PromotionWorkflow wf = start(client, 2, "staging", "gate-failed");
            WorkflowStub.fromTyped(wf).getResult(PromotionResult.class);
            return WorkflowStub.fromTyped(wf).getExecution().getWorkflowId();
        });
        run(dir, "rollback", (client, env, registry) -> {
            start(client, 1, "staging", "r1").run(new PromotionRequest("customer-churn", 1, "staging", "carol", null));
            WorkflowStub.fromTyped(start(client, 2, "staging", "r2")).getResult(PromotionResult.class);
            String id = RollbackWorkflow.workflowId("customer-churn", "staging", "history");
            client.newWorkflowStub(RollbackWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build())
                    .run(new RollbackRequest("customer-churn", "staging", null, "bob", "history"));
            return id;
        });
        run(dir, "scoring", (client, env, registry) -> {
            registry.live.put("production", 3);
            String id = ScoringWorkflow.workflowId("customer-churn", "production", "history");
            client.newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build())
                    .run(new ScoringRequest("customer-churn", "production", "scheduler"));
            return id;
        });
    }

    private static PromotionWorkflow start(WorkflowClient client, int version, String target, String label) {
        PromotionWorkflow wf = client.newWorkflowStub(PromotionWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(PromotionWorkflow.workflowId("customer-churn", version, target, label)).build());
        WorkflowClient.start(wf::run, new PromotionRequest("customer-churn", version, target, "carol", "history"));
        return wf;
    }

    private static void awaitApproval(PromotionWorkflow wf) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline)) {
            try {
                if (wf.progress().status() == PromotionStatus.AWAITING_APPROVAL) {
                    return;
                }
            } catch (RuntimeException notStartedYet) {
                // retry until the deadline
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("promotion never reached the approval gate");
    }

    private static void run(Path dir, String name, Scenario scenario) throws Exception {
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
            Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
            Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
            orchestration.registerWorkflowImplementationTypes(PromotionWorkflowImpl.class, RollbackWorkflowImpl.class,
                    ScoringWorkflowImpl.class);
            TestingPromotionActivities.Registry registry = new TestingPromotionActivities.Registry();
            orchestration.registerActivitiesImplementations(registry);
            sparkWorker.registerActivitiesImplementations(new TestingPromotionActivities.Spark(), new TestingPromotionActivities.Scoring());
            env.start();
            WorkflowClient client = env.getWorkflowClient();
            String id = scenario.run(client, env, registry);
            Files.writeString(dir.resolve(name + ".json"), client.fetchHistory(id).toJson(true));
        }
    }
}
