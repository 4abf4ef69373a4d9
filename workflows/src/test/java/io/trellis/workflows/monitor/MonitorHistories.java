package io.trellis.workflows.monitor;

import static io.trellis.workflows.monitor.TestingMonitorActivities.drift;
import static io.trellis.workflows.monitor.TestingMonitorActivities.feature;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import java.nio.file.Files;
import java.nio.file.Path;

/** Records representative monitoring histories (with the fakes) for the replay test. */
public final class MonitorHistories {
    private MonitorHistories() {}

    public static void record(Path dir) throws Exception {
        run(dir, "monitor-retrain-started", drift(500, 0.4, 0.7, feature("monthly_charges", 0.9, FeatureDriftResult.SIGNIFICANT)));
        run(dir, "monitor-no-drift", drift(500, 0.01, 0.79, feature("monthly_charges", 0.01, FeatureDriftResult.NONE)));
    }

    /** Records only the monitoring histories (the others stay as recorded). */
    public static void main(String[] args) throws Exception {
        record(Path.of(args.length > 0 ? args[0] : "src/test/resources/histories"));
        System.exit(0);
    }

    private static void run(Path dir, String name, DriftResult result) throws Exception {
        try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
            Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
            Worker spark = env.newWorker(TaskQueues.SPARK);
            orchestration.registerWorkflowImplementationTypes(MonitorWorkflowImpl.class, MonitorWorkflowTest.RecordingRetrain.class);
            orchestration.registerActivitiesImplementations(new TestingMonitorActivities.Registry());
            TestingMonitorActivities.Drift drift = new TestingMonitorActivities.Drift();
            drift.next = result;
            spark.registerActivitiesImplementations(drift);
            env.start();
            WorkflowClient client = env.getWorkflowClient();
            String id = MonitorWorkflow.workflowId("customer-churn", "production", "history");
            client.newWorkflowStub(MonitorWorkflow.class, WorkflowOptions.newBuilder()
                            .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build())
                    .run(new MonitorRequest("customer-churn", null, "scheduler"));
            Files.writeString(dir.resolve(name + ".json"), client.fetchHistory(id).toJson(true));
        }
    }
}
