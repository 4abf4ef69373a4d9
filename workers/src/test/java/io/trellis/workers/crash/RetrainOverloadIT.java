package io.trellis.workers.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.Registry;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RetrainWorkflow;
import io.trellis.workflows.retrain.RunStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Overload: a burst of retrains for several models triggered at once against one worker, with the real
 * workflow, the real registry (PostgreSQL) and a Spark stand-in that takes its time and counts how many
 * steps run at once, in total and per model. Checks that runs of one model never overlap (a retrain
 * triggered while one runs is skipped, audited), that the Spark task queue never runs more steps than its
 * limit, and that nothing times out. {@code -Dtrellis.overload.retrains=N} and {@code -Dtrellis.overload.models=M}
 * size it (the suite: 100 for 10 models).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RetrainOverloadIT {
    private static final int RETRAINS = Integer.getInteger("trellis.overload.retrains", 100);
    private static final int MODELS = Integer.getInteger("trellis.overload.models", 10);
    private static final int SPARK_CONCURRENCY = 2;

    private final CountingSpark spark = new CountingSpark();
    private TrellisRuntime runtime;
    private Registry registry;

    @BeforeAll
    void startStack() {
        Map<String, String> settings = new HashMap<>(TestingTrellisConfig.settings(RetrainOverloadIT.class));
        settings.put("TRELLIS_SPARK_CONCURRENCY", Integer.toString(SPARK_CONCURRENCY));
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings), real -> spark);
        registry = runtime.registry();
        for (int m = 0; m < MODELS; m++) {
            String yaml = SampleModels.customerChurnYaml().replace("name: " + SampleModels.CUSTOMER_CHURN, "name: " + model(m));
            registry.applyModelSpec(model(m), yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
        }
    }

    @AfterAll
    void stopStack() {
        runtime.close();
    }

    private static String model(int m) {
        return "storm-" + m;
    }

    @Test
    void aBurstOfRetrainsNeverOverlapsPerModelNorExceedsTheSparkLimit() throws Exception {
        WorkflowClient client = runtime.client();
        long started = System.nanoTime();
        List<WorkflowStub> runs = new ArrayList<>();
        for (int i = 0; i < RETRAINS; i++) {
            String model = model(i % MODELS);
            RetrainWorkflow wf = client.newWorkflowStub(RetrainWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION)
                    .setWorkflowId(RetrainWorkflow.workflowId(model, "burst-" + i))
                    .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                    .build());
            WorkflowClient.start(wf::run, new RetrainRequest(model, "alice", "burst " + i));
            runs.add(WorkflowStub.fromTyped(wf));
        }

        Map<String, Integer> completed = new HashMap<>();
        Map<String, Integer> skipped = new HashMap<>();
        for (int i = 0; i < runs.size(); i++) {
            String model = model(i % MODELS);
            try {
                RetrainResult result = runs.get(i).getResult(5, TimeUnit.MINUTES, RetrainResult.class);
                assertThat(result.status()).isIn(RunStatus.SUCCEEDED, RunStatus.GATE_FAILED);
                completed.merge(model, 1, Integer::sum);
            } catch (WorkflowFailedException e) {
                Throwable cause = e.getCause();
                while (cause != null && !(cause instanceof ApplicationFailure)) {
                    cause = cause.getCause();
                }
                if (!(cause instanceof ApplicationFailure app) || !ErrorCode.RETRAIN_ALREADY_RUNNING.name().equals(app.getType())) {
                    throw new AssertionError("retrain " + i + " failed for another reason than the overlap policy", e);
                }
                skipped.merge(model, 1, Integer::sum);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;

        assertThat(spark.maxInFlight.get()).as("Spark steps at once").isEqualTo(SPARK_CONCURRENCY);
        assertThat(spark.maxPerModel.get()).as("Spark steps of one model at once (overlapping runs)").isEqualTo(1);
        for (int m = 0; m < MODELS; m++) {
            String model = model(m);
            int done = completed.getOrDefault(model, 0);
            int skip = skipped.getOrDefault(model, 0);
            assertThat(done).as("completed runs of %s", model).isPositive();
            assertThat(done + skip).isEqualTo(RETRAINS / MODELS + (m < RETRAINS % MODELS ? 1 : 0));
            assertThat(registry.versions(model)).extracting(ModelVersionRecord::version)
                    .containsExactlyElementsOf(IntStream.rangeClosed(1, done).boxed().toList());
            assertThat(registry.auditTrail(AuditQuery.forModel(model))).extracting(AuditEntry::action)
                    .filteredOn(a -> a.equals("retrain.skipped")).hasSize(skip);
        }
        int totalDone = completed.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("%d retrains for %d models at once: %d ran, %d skipped (a run of the model was running),"
                        + " at most %d Spark steps at once (limit %d), all settled in %.1f s%n",
                RETRAINS, MODELS, totalDone, RETRAINS - totalDone, spark.maxInFlight.get(), SPARK_CONCURRENCY, seconds);
        System.out.println("RESULT retrain_burst_runs=" + RETRAINS);
        System.out.println("RESULT retrain_burst_completed=" + totalDone);
        System.out.println("RESULT retrain_burst_max_spark_steps_at_once=" + spark.maxInFlight.get());
        System.out.printf("RESULT retrain_burst_seconds=%.2f%n", seconds);
    }

    /** Stands in for Spark: each step takes a moment and is counted while it runs. */
    private static final class CountingSpark implements SparkActivities {
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger maxPerModel = new AtomicInteger();
        final Map<String, AtomicInteger> perModel = new ConcurrentHashMap<>();
        final AtomicLong featureVersions = new AtomicLong();

        private <T> T step(String model, Supplier<T> body) {
            AtomicInteger mine = perModel.computeIfAbsent(model, k -> new AtomicInteger());
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            maxPerModel.accumulateAndGet(mine.incrementAndGet(), Math::max);
            try {
                TimeUnit.MILLISECONDS.sleep(100);
                return body.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } finally {
                mine.decrementAndGet();
                inFlight.decrementAndGet();
            }
        }

        @Override
        public SnapshotResult snapshotAndValidate(SnapshotRequest r) {
            return step(r.spec().name(), () -> new SnapshotResult(new DatasetRef("/lake/raw/" + r.spec().name(), 0, 1_000), true, List.of()));
        }

        @Override
        public FeatureResult buildFeatures(FeatureRequest r) {
            return step(r.spec().name(), () -> new FeatureResult(
                    new DatasetRef("/lake/features/" + r.spec().name(), featureVersions.getAndIncrement(), 1_000), 800, 200));
        }

        @Override
        public TrainResult train(TrainRequest r) {
            return step(r.spec().name(), () -> new TrainResult(new ArtifactRef("file:/artifacts/" + r.runKey(), "0".repeat(64), 10),
                    "logistic_regression", Map.of("maxIter", "50"), 800, 100));
        }

        @Override
        public EvaluationResult evaluate(EvaluateRequest r) {
            Map<String, Double> metrics = Map.of("auc", 0.9, "log_loss", 0.3, "precision", 0.8, "recall", 0.8, "accuracy", 0.85, "f1", 0.8);
            return step(r.spec().name(), () -> new EvaluationResult(metrics,
                    r.champion() == null ? null : r.champion().version(), r.champion() == null ? null : metrics, null, 200));
        }
    }
}
