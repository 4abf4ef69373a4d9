package io.trellis.workers.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowStub;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.LineageChain;
import io.trellis.metadata.ModelVersionRecord;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.PromotionRecord;
import io.trellis.metadata.Registry;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.embedded.EmbeddedTemporalServer;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.PromotionWorkflow;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RunStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash tests with real processes and real signals. The Temporal server (the SDK's, on loopback) and
 * PostgreSQL run in this JVM; every worker is its own OS process ({@link CrashingWorker}, which is
 * {@code trellis worker} plus one planted SIGKILL), sharing the lake and the artifact store on disk.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerCrashIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    /** A killed Spark activity is noticed after its 30 s heartbeat timeout, a registry one after 30 s start-to-close. */
    private static final Duration PER_CRASH = Duration.ofMinutes(4);

    /**
     * One crash in every activity of the retraining lifecycle, in the order the workflow runs them. Registry
     * steps die right after their transaction committed; Spark steps die with their Spark work under way, and
     * training also once right after its artifact was stored.
     */
    private static final List<String> RETRAIN_CRASHES = List.of(
            "RegistryStartRun:after",
            "SparkSnapshotAndValidate:mid-job",
            "RegistryRecordSnapshot:after",
            "SparkBuildFeatures:mid-job",
            "RegistryRecordFeatures:after",
            "SparkTrain:mid-job",
            "SparkTrain:after",
            "SparkEvaluate:mid-job",
            "RegistryRegisterModelVersion:after",
            "RegistryMarkCandidate:after",
            "RegistryFinishRun:after");

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path logs;
    private EmbeddedTemporalServer temporal;
    private Map<String, String> settings;
    private TrellisRuntime runtime;
    private Registry registry;
    private final List<Process> workers = new ArrayList<>();
    private int workerCount;

    @BeforeAll
    void startStack() {
        temporal = EmbeddedTemporalServer.start(0);
        settings = new HashMap<>(TestingTrellisConfig.settings(WorkerCrashIT.class));
        settings.put("TRELLIS_TEMPORAL_ADDRESS", temporal.target());
        settings.put("TRELLIS_SPARK_MASTER", "local[2]");
        // The SDK's test server never expires a dead worker's sticky queue; a real cluster does after 5 s.
        settings.put("TRELLIS_WORKER_STICKY_TIMEOUT_SECONDS", "0");
        // This JVM is the client side only: with a Temporal address configured it starts no workers.
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings));
        registry = runtime.registry();
        new LocalRetrain(runtime, new PrintStream(PrintStream.nullOutputStream())).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        registry.applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
    }

    @AfterAll
    void stopStack() {
        workers.forEach(p -> p.destroyForcibly());
        runtime.close();
        temporal.close();
    }

    @Test
    @Order(1)
    void aRetrainSurvivesASigkillInEveryActivityAndRecordsEverythingExactlyOnce() throws Exception {
        WorkflowStub run = null;
        for (String crash : RETRAIN_CRASHES) {
            Process worker = startWorker(crash);
            if (run == null) {
                run = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(new RetrainRequest(MODEL, "alice", "crash suite"));
            }
            awaitSelfKill(worker, crash, run.getExecution().getWorkflowId());
        }
        Process survivor = startWorker(null);
        RetrainResult result = run.getResult(5, TimeUnit.MINUTES, RetrainResult.class);
        String runKey = result.runKey();

        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(registry.run(runKey)).hasValueSatisfying(r -> assertThat(r.status().name()).isEqualTo("SUCCEEDED"));

        // Every crashed activity was retried: its completing attempt is not the first.
        Map<String, Integer> attempts = completedAttempts(run.getExecution().getWorkflowId());
        for (String crash : RETRAIN_CRASHES) {
            String type = crash.substring(0, crash.indexOf(':'));
            assertThat(attempts.get(type)).as("attempt that completed %s", type).isGreaterThan(1);
        }
        assertThat(attempts.get("SparkTrain")).isEqualTo(3);

        // Delta: exactly one feature commit from this run, and the table reads as exactly the snapshot's rows.
        String featureTable = SparkActivitiesImpl.featureTable(runtime.lake(), MODEL);
        assertThat(DeltaTables.userMetadata(runtime.spark(), featureTable)).containsOnlyOnce(runKey).hasSize(1);
        assertThat(DeltaTables.latestVersion(runtime.spark(), featureTable)).isZero();
        assertThat(runtime.spark().read().format("delta").load(featureTable).count()).isEqualTo(result.source().rowCount());
        // The source table was only read: its version is the one the loader committed last.
        assertThat(DeltaTables.latestVersion(runtime.spark(), result.source().tablePath())).isEqualTo(result.source().version());

        // Exactly one model version, and its artifact is intact (fetch verifies the SHA-256).
        List<ModelVersionRecord> versions = registry.versions(MODEL);
        assertThat(versions).singleElement().satisfies(v -> {
            assertThat(v.version()).isEqualTo(1);
            assertThat(v.artifactSha256()).hasSize(64);
            Path local = new LocalArtifactStore(runtime.config().artifactRoot())
                    .fetch(new ArtifactRef(v.artifactUri(), v.artifactSha256(), v.artifactBytes()));
            assertThat(local).isDirectory();
        });

        // Every audit event exactly once, in order; the lineage complete.
        assertThat(registry.auditTrail(new AuditQuery(null, runKey, 100))).extracting(AuditEntry::action)
                .containsExactly("retrain.started", "data.validated", "model.registered", "environment.candidate_set", "retrain.succeeded");
        assertThat(runtime.metadata().auditChain().verify().intact()).as("audit hash chain intact").isTrue();
        LineageChain chain = registry.lineage(MODEL, 1);
        assertThat(chain.run().runKey()).isEqualTo(runKey);
        assertThat(chain.inputs()).extracting(i -> i.relation() + "@" + i.dataset().deltaVersion())
                .containsExactlyInAnyOrder("source@" + result.source().version(), "features@0");
        assertThat(registry.deployments(MODEL)).singleElement().satisfies(d -> {
            assertThat(d.environment()).isEqualTo("dev");
            assertThat(d.version()).isEqualTo(1);
        });
        stopGracefully(survivor);
    }

    @Test
    @Order(2)
    void aPromotionWaitingForApprovalOutlivesItsWorkerAndTheApprovalStillLands() throws Exception {
        Process first = startWorker(null);
        PromotionRunner promotions = new PromotionRunner(runtime, new PrintStream(PrintStream.nullOutputStream()));
        PromotionWorkflow wf = promotions.start(new PromotionRequest(MODEL, 1, "production", "alice", "crash suite release"));
        PromotionRecord waiting = poll("the promotion to wait for approval", Duration.ofMinutes(5),
                () -> registry.promotions(MODEL).stream().filter(p -> p.status().name().equals("AWAITING_APPROVAL")).findFirst());
        String key = waiting.promotionKey();

        first.destroyForcibly(); // SIGKILL
        assertThat(first.waitFor(1, TimeUnit.MINUTES)).isTrue();
        assertThat(first.exitValue()).isEqualTo(137);
        assertThat(registry.live(MODEL, "production")).isEmpty();

        Process second = startWorker(null);
        registry.grantRoles("bob", Set.of(PrincipalRole.APPROVER), "admin");
        promotions.decide(key, new ApprovalDecision("bob", Verdict.APPROVE, "approved after the worker restart"));
        PromotionRunner.Outcome done = promotions.follow(wf, Duration.ofMinutes(5));

        assertThat(done.status()).isEqualTo(PromotionStatus.DEPLOYED);
        assertThat(registry.live(MODEL, "production")).hasValueSatisfying(d -> {
            assertThat(d.version()).isEqualTo(1);
            assertThat(d.deployedBy()).isEqualTo("bob");
        });
        List<String> actions = registry.auditTrail(new AuditQuery(null, key, 200)).stream().map(AuditEntry::action).toList();
        // Each event exactly once: staging passes and deploys, production passes, waits, is approved and deploys.
        assertThat(actions).containsExactly("promotion.requested", "promotion.stage_passed", "environment.deployed",
                "promotion.stage_passed", "promotion.awaiting_approval", "promotion.approved", "environment.deployed",
                "promotion.deployed");
        assertThat(runtime.metadata().auditChain().verify().intact()).as("audit hash chain intact").isTrue();
        stopGracefully(second);
    }

    /** The attempt number of each activity type's last started attempt in the workflow's history. */
    private Map<String, Integer> completedAttempts(String workflowId) {
        Map<Long, String> scheduled = new HashMap<>();
        Map<String, Integer> attempts = new HashMap<>();
        for (HistoryEvent e : runtime.client().fetchHistory(workflowId).getEvents()) {
            if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
                scheduled.put(e.getEventId(), e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
            } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
                var started = e.getActivityTaskStartedEventAttributes();
                attempts.merge(scheduled.get(started.getScheduledEventId()), started.getAttempt(), Math::max);
            }
        }
        return attempts;
    }

    /** The workflow's history, one event per line, for failure messages. */
    private String history(String workflowId) {
        StringBuilder b = new StringBuilder();
        Map<Long, String> scheduled = new HashMap<>();
        for (HistoryEvent e : runtime.client().fetchHistory(workflowId).getEvents()) {
            b.append(e.getEventId()).append(' ').append(e.getEventType().name().replace("EVENT_TYPE_", ""));
            if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
                String type = e.getActivityTaskScheduledEventAttributes().getActivityType().getName();
                scheduled.put(e.getEventId(), type);
                b.append(' ').append(type);
            } else if (e.hasWorkflowTaskScheduledEventAttributes()) {
                b.append(" queue=").append(e.getWorkflowTaskScheduledEventAttributes().getTaskQueue().getName());
            } else if (e.hasActivityTaskStartedEventAttributes()) {
                b.append(" attempt=").append(e.getActivityTaskStartedEventAttributes().getAttempt());
            } else if (e.hasActivityTaskTimedOutEventAttributes()) {
                b.append(' ').append(scheduled.get(e.getActivityTaskTimedOutEventAttributes().getScheduledEventId()));
            }
            b.append('\n');
        }
        return b.toString();
    }

    private Process startWorker(String crashAt) throws IOException {
        int n = ++workerCount;
        Path log = logs.resolve("worker-" + n + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1536m");
        command.addAll(List.of(System.getProperty("trellis.spark.jvm.options", "").trim().split("\\s+")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), CrashingWorker.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(settings);
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        if (crashAt != null) {
            builder.environment().put("TRELLIS_CRASH_AT", crashAt);
        } else {
            builder.environment().remove("TRELLIS_CRASH_AT");
        }
        Process p = builder.start();
        workers.add(p);
        System.out.printf("worker %d (pid %d) started, crash at %s%n", n, p.pid(), crashAt == null ? "(none)" : crashAt);
        return p;
    }

    private void awaitSelfKill(Process worker, String crash, String workflowId) throws Exception {
        Path log = logs.resolve("worker-" + workerCount + ".log");
        if (!worker.waitFor(PER_CRASH.toMillis(), TimeUnit.MILLISECONDS)) {
            worker.destroyForcibly().waitFor();
            fail("worker planted with a crash at " + crash + " did not crash within " + PER_CRASH + "; its log:\n" + tail(log)
                    + "\nworkflow history:\n" + history(workflowId));
        }
        assertThat(worker.exitValue()).as(() -> "exit status of the worker crashing at " + crash + " (137 = SIGKILL); log:\n" + tail(log))
                .isEqualTo(137);
        assertThat(Files.readString(log)).contains("CRASH " + crash);
        System.out.printf("worker %d killed at %s%n", workerCount, crash);
    }

    private static void stopGracefully(Process worker) throws InterruptedException {
        worker.destroy(); // SIGTERM: the worker's shutdown hook stops polling
        if (!worker.waitFor(1, TimeUnit.MINUTES)) {
            worker.destroyForcibly().waitFor();
        }
    }

    private static <T> T poll(String what, Duration timeout, Supplier<Optional<T>> probe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<T> value = probe.get();
            if (value.isPresent()) {
                return value.get();
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        return fail("timed out after " + timeout + " waiting for " + what);
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }
}
