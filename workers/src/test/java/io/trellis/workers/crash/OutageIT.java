package io.trellis.workers.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowStub;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.embedded.EmbeddedPostgresServer;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RetrainStep;
import io.trellis.workflows.retrain.RetrainWorkflow;
import io.trellis.workflows.retrain.RunStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outages of what the workers depend on, in the middle of a real retrain: PostgreSQL stopped and started again
 * (a server of this test's own, so the restart hits no other test) and the artifact store unavailable for a
 * while. The activities retry per their policy and the run completes with nothing lost or doubled.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OutageIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;

    @TempDir
    static Path work;
    private int port;
    private EmbeddedPostgresServer postgres;
    private TrellisRuntime runtime;

    @BeforeAll
    void startStack() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        postgres = EmbeddedPostgresServer.start(work.resolve("postgres"), port);
        DatabaseConfig db = postgres.databaseConfig(4);
        Map<String, String> settings = new HashMap<>(TestingTrellisConfig.settings(OutageIT.class));
        settings.put("TRELLIS_JDBC_URL", db.jdbcUrl());
        settings.put("TRELLIS_DB_USER", db.user());
        settings.put("TRELLIS_DB_PASSWORD", db.password());
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings));
        new LocalRetrain(runtime, new PrintStream(PrintStream.nullOutputStream())).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        runtime.registry().applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
    }

    @AfterAll
    void stopStack() {
        runtime.close();
        postgres.close();
    }

    @Test
    @Order(1)
    void postgresRestartedMidRunIsRiddenOutByRetries() throws Exception {
        WorkflowStub run = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(new RetrainRequest(MODEL, "alice", "postgres restart"));
        String workflowId = run.getExecution().getWorkflowId();
        awaitStep(workflowId, RetrainStep.TRAIN);

        postgres.close();
        try {
            // Registering the version needs the database: wait until it has failed at least once, then bring it back.
            awaitFailedAttempt(workflowId, "RegistryRegisterModelVersion");
        } finally {
            // Also when the wait fails: the next test needs the database.
            postgres = EmbeddedPostgresServer.start(work.resolve("postgres"), port);
        }

        RetrainResult result = run.getResult(5, TimeUnit.MINUTES, RetrainResult.class);
        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(runtime.registry().versions(MODEL)).extracting(ModelVersionRecord::version).containsExactly(1);
        assertThat(runtime.registry().auditTrail(new AuditQuery(null, result.runKey(), 100))).extracting(AuditEntry::action)
                .containsExactly("retrain.started", "data.validated", "model.registered", "environment.candidate_set", "retrain.succeeded");
    }

    @Test
    @Order(2)
    void anArtifactStoreOutageDuringTrainingIsRetriedUntilItIsBack() throws Exception {
        Path artifacts = runtime.config().artifactRoot();
        Path away = artifacts.resolveSibling("artifacts-unavailable");
        WorkflowStub run = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(new RetrainRequest(MODEL, "alice", "artifact outage"));
        String workflowId = run.getExecution().getWorkflowId();
        awaitStep(workflowId, RetrainStep.BUILD_FEATURES);

        // The store's root stops being a folder: every write fails (root ignores permissions, so no chmod).
        Files.move(artifacts, away);
        Files.writeString(artifacts, "the artifact store is down");
        PendingActivityInfo failed = awaitFailedAttempt(workflowId, "SparkTrain");
        Files.delete(artifacts);
        Files.move(away, artifacts);

        RetrainResult result = run.getResult(5, TimeUnit.MINUTES, RetrainResult.class);
        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(failed.getLastFailure().getMessage()).isNotBlank();
        ModelVersionRecord v2 = runtime.registry().version(MODEL, 2).orElseThrow();
        assertThat(new LocalArtifactStore(artifacts).fetch(new ArtifactRef(v2.artifactUri(), v2.artifactSha256(), v2.artifactBytes())))
                .isDirectory();
        assertThat(runtime.registry().versions(MODEL)).extracting(ModelVersionRecord::version).containsExactly(1, 2);
    }

    private void awaitStep(String workflowId, RetrainStep step) throws InterruptedException {
        RetrainWorkflow wf = runtime.client().newWorkflowStub(RetrainWorkflow.class, workflowId);
        await("step " + step + " of " + workflowId, () -> wf.progress().step().ordinal() >= step.ordinal());
    }

    /** Waits until the activity is pending with a failed attempt behind it, and returns what Temporal shows. */
    private PendingActivityInfo awaitFailedAttempt(String workflowId, String activityType) throws InterruptedException {
        PendingActivityInfo[] seen = new PendingActivityInfo[1];
        await(activityType + " failing at least once", () -> {
            var response = runtime.client().getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
                    DescribeWorkflowExecutionRequest.newBuilder()
                            .setNamespace(runtime.config().temporalNamespace())
                            .setExecution(io.temporal.api.common.v1.WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                            .build());
            for (PendingActivityInfo a : response.getPendingActivitiesList()) {
                if (a.getActivityType().getName().equals(activityType) && a.getAttempt() >= 2 && a.hasLastFailure()) {
                    seen[0] = a;
                    return true;
                }
            }
            return false;
        });
        return seen[0];
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
        fail("timed out after 4 minutes waiting for " + what);
    }
}
