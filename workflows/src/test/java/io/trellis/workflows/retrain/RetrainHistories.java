package io.trellis.workflows.retrain;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/** Records representative retrain histories (with the fakes) for the replay test; see RecordWorkflowHistories. */
public final class RetrainHistories {
    private RetrainHistories() {}

    public static void record(Path dir) throws IOException {
        run(dir, "retrain-succeeded", (spark) -> { });
        run(dir, "retrain-validation-failed", (spark) -> spark.dataValid = false);
        run(dir, "retrain-gate-failed", (spark) -> spark.candidateMetrics = Map.of("auc", 0.61, "log_loss", 0.7));
        run(dir, "retrain-transient-retried", (spark) -> spark.featureFailuresBeforeSuccess = 1);
        run(dir, "retrain-succeeded-reference-profile", (spark) -> { });
    }

    /** A retrain with a data window and a hyperparameter (recorded after the {@code retrain-overrides} change). */
    public static void recordWithOverrides(Path dir) throws IOException {
        run(dir, "retrain-overrides", (spark) -> { }, new RetrainRequest("customer-churn", "alice", "history",
                io.trellis.spec.RetrainOverrides.of("2025-01-02", "2025-01-03", Map.of("maxIter", 7.0))));
    }

    private static void run(Path dir, String name, Consumer<TestingRetrainActivities.Spark> setup) throws IOException {
        run(dir, name, setup, new RetrainRequest("customer-churn", "alice", "history"));
    }

    private static void run(Path dir, String name, Consumer<TestingRetrainActivities.Spark> setup, RetrainRequest request)
            throws IOException {
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
            Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
            Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
            orchestration.registerWorkflowImplementationTypes(RetrainWorkflowImpl.class);
            TestingRetrainActivities.Spark spark = new TestingRetrainActivities.Spark();
            setup.accept(spark);
            TestingRetrainActivities.Reference reference = new TestingRetrainActivities.Reference();
            orchestration.registerActivitiesImplementations(new TestingRetrainActivities.Registry(), reference.store);
            sparkWorker.registerActivitiesImplementations(spark, reference.spark);
            env.start();
            WorkflowClient client = env.getWorkflowClient();
            String id = RetrainWorkflow.workflowId("customer-churn", name);
            RetrainWorkflow wf = client.newWorkflowStub(RetrainWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build());
            try {
                wf.run(request);
            } catch (RuntimeException expectedForFailureScenarios) {
                // the history of a failed run is as worth replaying as a successful one
            }
            Files.writeString(dir.resolve(name + ".json"), client.fetchHistory(id).toJson(true));
        }
    }
}
