package io.trellis.workers.queues;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.RetrainRunner;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.WorkerHealthServer;
import io.trellis.workers.embedded.EmbeddedTemporalServer;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Separate worker deployments per task queue ({@code trellis.worker.queues}): one runtime polls only the orchestration
 * queue, another only the Spark queue, both against the same Temporal server (the SDK's, on loopback) and PostgreSQL;
 * a third, with no workers, starts a real retrain. The workflow history says which worker took every task.
 */
class SplitQueuesRetrainIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private final HttpClient http = HttpClient.newHttpClient();

    private String get(int port, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    @Test
    void aRetrainRunsItsSparkStepsOnTheSparkWorkerAndEverythingElseOnTheOrchestrationWorker() throws Exception {
        try (EmbeddedTemporalServer temporal = EmbeddedTemporalServer.start(0)) {
            Map<String, String> settings = new HashMap<>(TestingTrellisConfig.settings(SplitQueuesRetrainIT.class));
            settings.put("TRELLIS_TEMPORAL_ADDRESS", temporal.target());
            settings.put("TRELLIS_SPARK_MASTER", "local[2]");
            Map<String, String> orchestrationSettings = new HashMap<>(settings);
            orchestrationSettings.put("TRELLIS_WORKER_QUEUES", "orchestration");
            Map<String, String> sparkSettings = new HashMap<>(settings);
            sparkSettings.put("TRELLIS_WORKER_QUEUES", "spark");

            try (TrellisRuntime client = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings));
                 TrellisRuntime orchestration = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), orchestrationSettings));
                 TrellisRuntime spark = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), sparkSettings));
                 WorkerHealthServer orchestrationHealth = WorkerHealthServer.start(orchestration, new InetSocketAddress("127.0.0.1", 0));
                 WorkerHealthServer sparkHealth = WorkerHealthServer.start(spark, new InetSocketAddress("127.0.0.1", 0))) {
                new LocalRetrain(client, new PrintStream(PrintStream.nullOutputStream())).generateSampleData(new SampleDataOptions(
                        client.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 2_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
                String yaml = SampleModels.customerChurnYaml();
                client.registry().applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev"), "alice");

                orchestration.startWorkers();
                spark.startWorkers();
                assertThat(orchestration.pollingQueues()).containsExactly(TaskQueues.ORCHESTRATION);
                assertThat(spark.pollingQueues()).containsExactly(TaskQueues.SPARK);
                assertThat(client.pollingQueues()).isEmpty(); // a configured cluster: this process starts no workers
                assertThat(get(orchestrationHealth.port(), "/readyz")).isEqualTo("200 {\"status\":\"UP\",\"queues\":[\"trellis-orchestration\"],"
                        + "\"checks\":{\"workers\":\"UP\",\"postgres\":\"UP\",\"temporal\":\"UP\"}}");
                assertThat(get(sparkHealth.port(), "/readyz")).isEqualTo("200 {\"status\":\"UP\",\"queues\":[\"trellis-spark\"],"
                        + "\"checks\":{\"workers\":\"UP\",\"postgres\":\"UP\",\"temporal\":\"UP\",\"spark\":\"UP\"}}");

                RetrainRunner.Outcome outcome = new RetrainRunner(client, new PrintStream(PrintStream.nullOutputStream()))
                        .run(new RetrainRequest(MODEL, "alice", "split queues"));
                assertThat(outcome.status()).isEqualTo(RunStatus.SUCCEEDED);
                assertThat(outcome.result().version()).isEqualTo(1);

                // Who took what, from the history: activity type and queue from each ActivityTaskScheduled, the worker
                // from its ActivityTaskStarted; workflow tasks from WorkflowTaskStarted.
                List<HistoryEvent> events = client.client().fetchHistory(outcome.runKey()).getEvents();
                Map<Long, String> scheduled = new HashMap<>();
                Map<String, Set<String>> identitiesByQueue = new TreeMap<>();
                Set<String> sparkActivities = new TreeSet<>();
                Set<String> lightActivities = new TreeSet<>();
                Set<String> workflowTaskIdentities = new TreeSet<>();
                for (HistoryEvent e : events) {
                    if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
                        var a = e.getActivityTaskScheduledEventAttributes();
                        scheduled.put(e.getEventId(), a.getTaskQueue().getName());
                        (a.getTaskQueue().getName().equals(TaskQueues.SPARK) ? sparkActivities : lightActivities).add(a.getActivityType().getName());
                    } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
                        var a = e.getActivityTaskStartedEventAttributes();
                        identitiesByQueue.computeIfAbsent(scheduled.get(a.getScheduledEventId()), q -> new TreeSet<>()).add(a.getIdentity());
                    } else if (e.getEventType() == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) {
                        workflowTaskIdentities.add(e.getWorkflowTaskStartedEventAttributes().getIdentity());
                    }
                }
                assertThat(sparkActivities).contains("SparkSnapshotAndValidate", "SparkBuildFeatures", "SparkTrain", "SparkEvaluate");
                assertThat(lightActivities).contains("RegistryStartRun", "RegistryRegisterModelVersion", "RegistryFinishRun");
                assertThat(identitiesByQueue.get(TaskQueues.SPARK)).singleElement().asString().endsWith(" [spark]");
                assertThat(identitiesByQueue.get(TaskQueues.ORCHESTRATION)).singleElement().asString().endsWith(" [orchestration]");
                assertThat(workflowTaskIdentities).singleElement().asString().endsWith(" [orchestration]");

                // The orchestration-only worker never started a Spark session (this JVM's shared test session aside).
                assertThat(orchestration.sparkSessionRunning()).isFalse();
                assertThat(spark.sparkSessionRunning()).isTrue();
            }
        }
    }
}
