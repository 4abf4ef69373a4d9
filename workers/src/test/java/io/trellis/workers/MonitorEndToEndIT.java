package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.client.WorkflowOptions;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RunRecord;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.monitor.FeatureDriftResult;
import io.trellis.workflows.monitor.MonitorDecision;
import io.trellis.workflows.monitor.MonitorRequest;
import io.trellis.workflows.monitor.MonitorResult;
import io.trellis.workflows.monitor.MonitorWorkflow;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringWorkflow;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RunStatus;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The monitoring loop on the real stack (PostgreSQL, Temporal test server on loopback, Spark, Delta): a model is
 * trained on three clean days and made live in production. A fourth, clean day arrives: monitoring must find no drift
 * and start nothing. A fifth day arrives drifted (the sample generator's drift switch): monitoring must start a real
 * retrain, once, and a second pass must not start another. The reference profile comes from training; the first pass
 * runs before batch scoring has written anything (a finding, and the window is re-scored), the drifted one reads the
 * scores batch scoring stored for the live version.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MonitorEndToEndIT {
    private static final String MODEL = "churn-monitored";
    private static final String TABLE = "raw/churn_monitored";
    private TrellisRuntime runtime;
    private Registry registry;
    private final PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @BeforeAll
    void trainALiveModel() {
        runtime = TrellisRuntime.open(TestingTrellisConfig.forTestClass(MonitorEndToEndIT.class));
        registry = runtime.registry();
        days(3, SampleDataOptions.NO_DRIFT);
        String yaml = SampleModels.customerChurnYaml().replace("name: " + SampleModels.CUSTOMER_CHURN, "name: " + MODEL)
                .replace("table: " + SampleModels.CUSTOMER_CHURN_TABLE, "table: " + TABLE)
                .replace("windowDays: 3", "windowDays: 1");
        registry.applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
        RetrainRunner.Outcome trained = new RetrainRunner(runtime, out).run(new RetrainRequest(MODEL, "alice", "first version"));
        assertThat(trained.status()).isEqualTo(RunStatus.SUCCEEDED);
        registry.markLive(MODEL, 1, "staging", "alice", "monitoring e2e");
        registry.markLive(MODEL, 1, "production", "alice", "monitoring e2e");
    }

    /** Daily batches of 1,000 rows up to {@code days} (batches already there are kept), drifting from {@code driftFromDay}. */
    private void days(int days, int driftFromDay) {
        new LocalRetrain(runtime, out).generateSampleData(new SampleDataOptions(runtime.lake().resolve(TABLE), 1_000L * days, days, 5,
                driftFromDay, 2.0), "loader");
    }

    @AfterAll
    void stopStack() {
        runtime.close();
    }

    private MonitorResult monitor(String label) {
        return runtime.client().newWorkflowStub(MonitorWorkflow.class, WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.ORCHESTRATION)
                        .setWorkflowId(MonitorWorkflow.workflowId(MODEL, "production", label))
                        .build())
                .run(new MonitorRequest(MODEL, null, "ops"));
    }

    /** Production's batch scoring of the latest window, as the scoring schedule runs it: what monitoring reads. */
    private void batchScore(String label) {
        runtime.client().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.ORCHESTRATION)
                        .setWorkflowId(ScoringWorkflow.workflowId(MODEL, "production", label))
                        .build())
                .run(new ScoringRequest(MODEL, "production", "scheduler"));
    }

    @Test
    void noDriftStartsNothingThenDriftStartsOneRealRetrain() throws Exception {
        // The reference profile was stored at training time, before any monitoring run.
        assertThat(runtime.monitoring().reference(MODEL, 1)).hasValueSatisfying(r -> assertThat(r.sourceVersion()).isEqualTo(2));

        days(4, SampleDataOptions.NO_DRIFT);
        // Batch scoring has not run in production yet: monitoring says so and re-scores the window itself.
        MonitorResult stable = monitor("clean-day");
        assertThat(stable.decision()).as(stable.reason()).isEqualTo(MonitorDecision.NO_DRIFT);
        assertThat(stable.drift().findings()).anyMatch(f -> f.startsWith("no predictions table at "));
        assertThat(stable.drift().scoresFrom()).startsWith("the live model, re-scoring the window");
        assertThat(stable.drift().predictionPsi()).isNotNull();
        assertThat(stable.drift().windowFrom()).isEqualTo("2025-01-04");
        assertThat(stable.drift().features()).noneMatch(f -> f.severity().equals(FeatureDriftResult.SIGNIFICANT));
        assertThat(stable.retrainWorkflowId()).isNull();

        days(5, 4);
        batchScore("drifted-day");
        MonitorResult drifted = monitor("drifted-day");
        assertThat(drifted.decision()).isEqualTo(MonitorDecision.RETRAIN_STARTED);
        // Score drift and AUC from what batch scoring stored for v1 (labels joined on the key), not a re-scoring.
        assertThat(drifted.drift().scoresFrom()).startsWith("predictions table ").contains("score/" + MODEL + "/production/drifted-day")
                .contains(" of v1 ")
                // The run as the registry recorded it (an ISO instant), not looked up in the table (Spark's timestamp string).
                .containsPattern("scored at \\d{4}-\\d{2}-\\d{2}T");
        assertThat(drifted.drift().findings()).noneMatch(f -> f.contains("predictions"));
        assertThat(drifted.drift().labelledRows()).isEqualTo(1000);
        assertThat(drifted.drift().predictionPsi()).isNotNull();
        assertThat(drifted.significantFeatures()).contains("monthly_charges", "support_calls_90d", "data_usage_gb");
        assertThat(drifted.drift().currentRows()).isEqualTo(1000);
        assertThat(drifted.drift().referenceRows()).isEqualTo(3000);
        assertThat(drifted.drift().windowFrom()).isEqualTo("2025-01-05");
        assertThat(drifted.drift().currentAuc()).isNotNull();
        String report = Files.readString(Path.of(URI.create(drifted.reportUri())));
        assertThat(report).contains("RETRAIN_STARTED").contains("<td>monthly_charges</td>").contains(drifted.retrainWorkflowId());

        // A second pass while that retrain runs (or right after it started) does not start another.
        MonitorResult again = monitor("drifted-day-again");
        assertThat(again.decision()).isIn(MonitorDecision.RETRAIN_ALREADY_RUNNING, MonitorDecision.RETRAIN_COOLING_DOWN);
        assertThat(again.retrainWorkflowId()).isNull();

        // The retrain monitoring started is a real one, triggered by monitoring with the reason attached.
        RunRecord retrain = awaitFinished(drifted.retrainWorkflowId(), Duration.ofMinutes(5));
        assertThat(retrain.triggeredBy()).isEqualTo(MonitorWorkflow.ACTOR);
        assertThat(retrain.reason()).contains("monthly_charges").contains(drifted.runKey());
        assertThat(retrain.status()).isNotEqualTo(io.trellis.metadata.RunStatus.RUNNING);
        assertThat(retrain.failureStep()).as("the retrain ran its steps: %s", retrain.failureMessage()).isNotEqualTo("snapshot");
        assertThat(registry.auditTrail(AuditQuery.forModel(MODEL)))
                .filteredOn(a -> a.action().equals("retrain.started") && MonitorWorkflow.ACTOR.equals(a.actor())).hasSize(1);

        // Postgres: one reference per version, the runs with decisions, the statistics as a series, audit rows.
        MonitoringStore monitoring = runtime.monitoring();
        assertThat(monitoring.reference(MODEL, 1)).hasValueSatisfying(r -> assertThat(r.sourceVersion()).isEqualTo(2));
        assertThat(monitoring.runs(MODEL, 10)).extracting(MonitoringStore.MonitoringRun::decision)
                .containsExactly(again.decision().name(), "RETRAIN_STARTED", "NO_DRIFT");
        assertThat(monitoring.series(MODEL, "monthly_charges", "psi")).extracting(MonitoringStore.Point::value)
                .satisfiesExactly(v -> assertThat(v).isLessThan(0.1), v -> assertThat(v).isGreaterThan(0.2),
                        v -> assertThat(v).isGreaterThan(0.2));
        assertThat(monitoring.series(MODEL, MonitoringStore.MODEL, "auc")).hasSize(3);
        assertThat(registry.auditTrail(AuditQuery.forModel(MODEL))).filteredOn(a -> a.action().equals("monitoring.run")).hasSize(3);
    }

    private RunRecord awaitFinished(String runKey, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            var run = registry.run(runKey);
            if (run.isPresent() && run.get().finishedAt() != null) {
                return run.get();
            }
            Thread.sleep(250); // polling the registry with a deadline
        }
        throw new AssertionError("the retrain " + runKey + " did not finish within " + timeout);
    }
}
