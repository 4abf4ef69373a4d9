package io.trellis.workflows.retrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.spec.ErrorCode;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RetrainWorkflowTest {
    private TestWorkflowEnvironment env;
    private WorkflowClient client;
    private TestingRetrainActivities.Registry registry;
    private TestingRetrainActivities.Spark spark;
    private TestingRetrainActivities.Reference reference;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
        Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
        orchestration.registerWorkflowImplementationTypes(RetrainWorkflowImpl.class);
        registry = new TestingRetrainActivities.Registry();
        spark = new TestingRetrainActivities.Spark();
        reference = new TestingRetrainActivities.Reference();
        orchestration.registerActivitiesImplementations(registry, reference.store);
        sparkWorker.registerActivitiesImplementations(spark, reference.spark);
        env.start();
        client = env.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private RetrainWorkflow newRun(String label) {
        return client.newWorkflowStub(RetrainWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(RetrainWorkflow.workflowId("customer-churn", label))
                .build());
    }

    private static RetrainRequest request() {
        return new RetrainRequest("customer-churn", "alice", "test");
    }

    @Test
    void happyPathRegistersAVersionAndMarksItDevCandidate() {
        RetrainResult result = newRun("happy").run(request());

        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(result.runKey()).isEqualTo("retrain/customer-churn/happy");
        assertThat(result.version()).isEqualTo(1);
        assertThat(result.environment()).isEqualTo("dev");
        assertThat(result.metrics()).containsEntry("auc", 0.83);
        assertThat(result.source().version()).isEqualTo(7);
        assertThat(result.features().version()).isEqualTo(3);
        assertThat(result.gates()).extracting(GateResult::gate)
                .containsExactly("min_auc", "max_log_loss", "beats_champion");
        assertThat(result.gates()).allMatch(GateResult::passed);
        assertThat(spark.calls).containsExactly("snapshot", "features", "train", "evaluate");
        assertThat(registry.calls).containsExactly("startRun", "recordSnapshot", "recordFeatures",
                "registerModelVersion", "markCandidate:dev:v1", "finishRun:SUCCEEDED");
        assertThat(registry.registrations.get(0).gatesPassed()).isTrue();
        assertThat(registry.registrations.get(0).actor()).isEqualTo("alice");
        // The new version's monitoring reference: its own training snapshot and artifact, stored before the run closes.
        assertThat(reference.calls).containsExactly(
                "referenceProfile:/lake/raw/customer_churn@7:v1:file:/artifacts/customer-churn/run",
                "storeReference:customer-churn:v1");
        assertThat(reference.stored).containsEntry(1, "{\"table\":\"/lake/raw/customer_churn\",\"version\":7}");
    }

    @Test
    void aReferenceProfileThatCannotBeComputedLeavesTheVersionRegisteredForMonitoringToProfileLater() {
        reference.profileFailure = ApplicationFailure.newNonRetryableFailure(
                "the training snapshot lacks the features [age]", ErrorCode.SCHEMA_MISMATCH.name());

        RetrainResult result = newRun("no-profile").run(request());

        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(result.environment()).isEqualTo("dev");
        assertThat(reference.calls).containsExactly(
                "referenceProfile:/lake/raw/customer_churn@7:v1:file:/artifacts/customer-churn/run");
        assertThat(reference.stored).isEmpty();
        assertThat(registry.calls).endsWith("markCandidate:dev:v1", "finishRun:SUCCEEDED");
    }

    @Test
    void validationFailureStopsBeforeTrainingWithAReadableReport() {
        spark.dataValid = false;

        assertThatThrownBy(() -> newRun("invalid").run(request()))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> {
                    ApplicationFailure cause = (ApplicationFailure) e.getCause();
                    assertThat(cause.getType()).isEqualTo(ErrorCode.DATA_VALIDATION_FAILED.name());
                    assertThat(cause.getOriginalMessage())
                            .contains("version 7")
                            .contains("max_null_rate on 'age': observed 12.0% null (600 of 5000), allowed ≤ 0.0%")
                            .doesNotContain("min_rows");
                });
        assertThat(spark.calls).containsExactly("snapshot");
        assertThat(registry.calls).containsExactly("startRun", "recordSnapshot", "finishRun:VALIDATION_FAILED");
        assertThat(registry.outcomes.get(0).failedStep()).isEqualTo("snapshot + validate");
    }

    @Test
    void transientFailureIsRetriedWithBackoff() {
        spark.featureFailuresBeforeSuccess = 2;

        RetrainResult result = newRun("transient").run(request());

        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(spark.featureAttempts.get()).isEqualTo(3);
        assertThat(registry.calls).containsOnlyOnce("recordFeatures").containsOnlyOnce("finishRun:SUCCEEDED");
    }

    @Test
    void nonRetryableFailureFailsTheRunOnceWithItsMessage() {
        spark.trainFailure = ApplicationFailure.newNonRetryableFailure(
                "column 'age': spec says numeric, table has string", ErrorCode.SCHEMA_MISMATCH.name());

        assertThatThrownBy(() -> newRun("fatal").run(request()))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> {
                    ApplicationFailure cause = (ApplicationFailure) e.getCause();
                    assertThat(cause.getType()).isEqualTo("SCHEMA_MISMATCH");
                    assertThat(cause.getOriginalMessage()).isEqualTo("column 'age': spec says numeric, table has string");
                });
        assertThat(spark.calls).filteredOn("train"::equals).hasSize(1);
        assertThat(registry.outcomes).singleElement().satisfies(o -> {
            assertThat(o.status()).isEqualTo(RunStatus.FAILED);
            assertThat(o.failedStep()).isEqualTo("train");
            assertThat(o.message()).isEqualTo("train failed: column 'age': spec says numeric, table has string");
        });
        assertThat(registry.calls).doesNotContain("registerModelVersion");
    }

    @Test
    void exhaustedRetriesFailTheRun() {
        spark.featureFailuresBeforeSuccess = 100;

        assertThatThrownBy(() -> newRun("exhausted").run(request()))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> assertThat(((ApplicationFailure) e.getCause()).getOriginalMessage())
                        .isEqualTo("executor lost (simulated)"));
        assertThat(spark.featureAttempts.get()).isEqualTo(4);
        assertThat(registry.outcomes).singleElement()
                .satisfies(o -> assertThat(o.message()).contains("build features failed: executor lost (simulated)"));
    }

    @Test
    void failedGateRegistersARejectedVersionWithoutPromotingIt() {
        spark.candidateMetrics = Map.of("auc", 0.62, "log_loss", 0.55);

        RetrainResult result = newRun("weak").run(request());

        assertThat(result.status()).isEqualTo(RunStatus.GATE_FAILED);
        assertThat(result.environment()).isNull();
        assertThat(result.message()).contains("auc 0.6200 ≥ 0.7000");
        assertThat(registry.registrations.get(0).gatesPassed()).isFalse();
        assertThat(registry.calls).noneMatch(c -> c.startsWith("markCandidate")).contains("finishRun:GATE_FAILED");
        assertThat(reference.calls).as("a rejected version never goes live, so it gets no monitoring reference").isEmpty();
    }

    @Test
    void challengerIsComparedWithTheChampionOnTheSameHoldout() {
        registry.champion = new ChampionRef(4, "dev", new ArtifactRef("file:/a/v4", "x", 1));
        spark.championMetrics = Map.of("auc", 0.90, "log_loss", 0.30);

        RetrainResult result = newRun("challenger").run(request());

        assertThat(result.status()).isEqualTo(RunStatus.GATE_FAILED);
        assertThat(result.championVersion()).isEqualTo(4);
        assertThat(result.gates()).filteredOn(g -> g.gate().equals("beats_champion")).singleElement()
                .satisfies(g -> {
                    assertThat(g.passed()).isFalse();
                    assertThat(g.observed()).isCloseTo(-0.07, org.assertj.core.data.Offset.offset(1e-9));
                    assertThat(g.detail()).contains("vs champion v4 0.9000");
                });
    }

    @Test
    void unknownModelFailsAtStartWithoutRunningAnyJob() {
        registry.onStart = start -> {
            throw ApplicationFailure.newNonRetryableFailure("no model named 'nope'", ErrorCode.UNKNOWN_MODEL.name());
        };

        assertThatThrownBy(() -> newRun("unknown").run(new RetrainRequest("nope", "alice", null)))
                .isInstanceOf(WorkflowFailedException.class)
                .satisfies(e -> assertThat(((ApplicationFailure) e.getCause()).getType()).isEqualTo("UNKNOWN_MODEL"));
        assertThat(spark.calls).isEmpty();
        assertThat(registry.calls).containsExactly("startRun");
    }

    @Test
    void progressQueryShowsTheCurrentStep() throws Exception {
        CountDownLatch inEvaluate = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        spark.duringEvaluate = () -> {
            inEvaluate.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        RetrainWorkflow run = newRun("progress");
        WorkflowClient.start(run::run, request());
        assertThat(inEvaluate.await(30, TimeUnit.SECONDS)).isTrue();

        RetrainProgress during = run.progress();
        assertThat(during.step()).isEqualTo(RetrainStep.EVALUATE);
        assertThat(during.stepNumber()).isEqualTo(5);
        assertThat(during.totalSteps()).isEqualTo(8);
        assertThat(during.status()).isEqualTo(RunStatus.RUNNING);

        release.countDown();
        WorkflowStub.fromTyped(run).getResult(RetrainResult.class);
        assertThat(run.progress().step()).isEqualTo(RetrainStep.DONE);
        assertThat(run.progress().status()).isEqualTo(RunStatus.SUCCEEDED);
    }

    @Test
    void activitiesRunOnTheirTaskQueuesWithMeaningfulNames() {
        newRun("names").run(request());
        List<HistoryEvent> events = client.fetchHistory("retrain/customer-churn/names").getHistory().getEventsList();
        List<String> scheduled = events.stream()
                .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
                .map(e -> e.getActivityTaskScheduledEventAttributes().getActivityType().getName()
                        + "@" + e.getActivityTaskScheduledEventAttributes().getTaskQueue().getName())
                .toList();
        assertThat(scheduled).containsExactly(
                "RegistryStartRun@trellis-orchestration",
                "SparkSnapshotAndValidate@trellis-spark",
                "RegistryRecordSnapshot@trellis-orchestration",
                "SparkBuildFeatures@trellis-spark",
                "RegistryRecordFeatures@trellis-orchestration",
                "SparkTrain@trellis-spark",
                "SparkEvaluate@trellis-spark",
                "RegistryRegisterModelVersion@trellis-orchestration",
                "RegistryMarkCandidate@trellis-orchestration",
                "DriftReferenceProfile@trellis-spark",
                "MonitorStoreReference@trellis-orchestration",
                "RegistryFinishRun@trellis-orchestration");
        events.stream().filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
                .map(HistoryEvent::getActivityTaskScheduledEventAttributes)
                .filter(a -> a.getTaskQueue().getName().equals(TaskQueues.SPARK))
                .forEach(a -> assertThat(a.getHeartbeatTimeout().getSeconds()).isPositive());
    }
    @Test
    void overridesReachTheRegistryTheSnapshotAndFeatureStepsAndTrainingUsesTheirHyperparameters() {
        io.trellis.spec.RetrainOverrides overrides = io.trellis.spec.RetrainOverrides.of("2025-01-02", "2025-01-03",
                Map.of("maxIter", 7.0));
        RetrainResult result = newRun("overrides").run(new RetrainRequest("customer-churn", "alice", "window", overrides));

        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(registry.starts).singleElement().extracting(io.trellis.workflows.activities.RunStart::overrides).isEqualTo(overrides);
        assertThat(spark.requests).hasSize(3);
        var snapshot = (io.trellis.workflows.activities.SnapshotRequest) spark.requests.get(0);
        var features = (io.trellis.workflows.activities.FeatureRequest) spark.requests.get(1);
        var train = (io.trellis.workflows.activities.TrainRequest) spark.requests.get(2);
        assertThat(snapshot.overrides()).isEqualTo(overrides);
        assertThat(snapshot.spec().algorithm().hyperparameters()).containsEntry("maxIter", 50.0);
        assertThat(features.overrides()).isEqualTo(overrides);
        assertThat(train.spec().algorithm().hyperparameters()).containsEntry("maxIter", 7.0).containsEntry("regParam", 0.01);
    }

    @Test
    void aRetrainWithoutOverridesPassesNone() {
        newRun("plain").run(request());
        assertThat(registry.starts).singleElement().extracting(io.trellis.workflows.activities.RunStart::overrides).isNull();
        assertThat(((io.trellis.workflows.activities.SnapshotRequest) spark.requests.get(0)).overrides()).isNull();
        assertThat(((io.trellis.workflows.activities.TrainRequest) spark.requests.get(2)).spec().algorithm().hyperparameters())
                .containsEntry("maxIter", 50.0);
    }
}
