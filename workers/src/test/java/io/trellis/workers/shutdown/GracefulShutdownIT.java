package io.trellis.workers.shutdown;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowStub;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.embedded.EmbeddedTemporalServer;
import io.trellis.workflows.retrain.RetrainRequest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM to a real worker process while it runs an activity: it stops polling at once, lets the running activity
 * finish and report within {@code trellis.worker.shutdown.seconds}, then exits; an activity that outlasts the grace
 * period is interrupted and the process still exits on time. The Temporal server and PostgreSQL run in this JVM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GracefulShutdownIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;

    @TempDir
    Path logs;
    private EmbeddedTemporalServer temporal;
    private Map<String, String> settings;
    private TrellisRuntime runtime;
    private final List<Process> workers = new ArrayList<>();

    @BeforeAll
    void startStack() {
        temporal = EmbeddedTemporalServer.start(0);
        settings = new HashMap<>(TestingTrellisConfig.settings(GracefulShutdownIT.class));
        settings.put("TRELLIS_TEMPORAL_ADDRESS", temporal.target());
        settings.put("TRELLIS_SPARK_MASTER", "local[1]");
        settings.put("TRELLIS_WORKER_STICKY_TIMEOUT_SECONDS", "0");
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), settings)); // client side only
        // The client's first call fetches the server's capabilities under a short deadline; on a loaded machine that
        // can time out once, so connect here, before anything is timed.
        for (int attempt = 1; ; attempt++) {
            try {
                runtime.client().getWorkflowServiceStubs().getServerCapabilities().get();
                break;
            } catch (RuntimeException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
        new LocalRetrain(runtime, new PrintStream(PrintStream.nullOutputStream())).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        String yaml = SampleModels.customerChurnYaml();
        runtime.registry().applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "alice");
    }

    @AfterAll
    void stopStack() {
        workers.forEach(Process::destroyForcibly);
        runtime.close();
        temporal.close();
    }

    @Test
    @Order(1)
    void sigtermLetsTheRunningSparkStepFinishAndReportThenTheWorkerExitsWithoutTakingMoreWork() throws Exception {
        Path log = logs.resolve("drain.log");
        // A Spark step: it must keep its Spark session through the drain (JVM shutdown hooks would stop it).
        // A generous grace: on a loaded 2-core machine the step's Spark job alone can take a minute.
        Process worker = startWorker(log, "SparkSnapshotAndValidate:3", 240);
        WorkflowStub run = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(new RetrainRequest(MODEL, "alice", "shutdown test"));
        String workflowId = run.getExecution().getWorkflowId();
        try {
            drainsAndReports(worker, log, run, workflowId);
        } finally {
            run.terminate("shutdown test done"); // leaves nothing for the next test's worker
            runtime.registry().abandonRunningRuns("test", "shutdown test done");
        }
    }

    private void drainsAndReports(Process worker, Path log, WorkflowStub run, String workflowId) throws Exception {
        awaitLine(worker, log, "SLOW SparkSnapshotAndValidate started", Duration.ofMinutes(3));

        long signalled = System.nanoTime();
        worker.destroy(); // SIGTERM
        if (!worker.waitFor(5, TimeUnit.MINUTES)) {
            fail("the worker did not exit within 5 minutes of SIGTERM; log:\n" + Files.readString(log));
        }
        double seconds = (System.nanoTime() - signalled) / 1e9;
        String out = Files.readString(log);
        assertThat(worker.exitValue()).as("exit status after SIGTERM and a clean drain; log:\n%s", out).isZero();
        assertThat(out).contains("SIGTERM received: shutting down", "stopping workers: polling stopped, waiting up to 240 s",
                "SLOW SparkSnapshotAndValidate finished", "workers stopped: every running task finished", "slow worker closed");
        assertThat(out.indexOf("stopping workers")).isLessThan(out.indexOf("SLOW SparkSnapshotAndValidate finished"));
        System.out.printf("drain: SIGTERM to exit %.1f s (Spark step held 3 s, then its job; grace 240 s)%n", seconds);
        assertThat(seconds).as("seconds from SIGTERM to exit").isLessThan(240);

        // The Spark step's result reached Temporal on its first attempt (after RegistryStartRun): nothing to redo.
        List<HistoryEvent> events = runtime.client().fetchHistory(workflowId).getEvents();
        assertThat(events).filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).hasSize(2);
        assertThat(events).filteredOn(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
                .hasSize(2).allSatisfy(e -> assertThat(e.getActivityTaskStartedEventAttributes().getAttempt()).isEqualTo(1));
        // ...and the stopping worker took no new work: the workflow task that would schedule the next step waits,
        // unstarted, for another worker.
        int completed = events.indexOf(events.stream()
                .filter(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED).reduce((a, b) -> b).orElseThrow());
        assertThat(events.subList(completed + 1, events.size())).extracting(HistoryEvent::getEventType)
                .containsExactly(EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
        assertThat(runtime.client().getWorkflowServiceStubs().blockingStub().describeWorkflowExecution(
                DescribeWorkflowExecutionRequest.newBuilder().setNamespace("default").setExecution(run.getExecution()).build())
                .getPendingActivitiesList()).isEmpty();
    }

    @Test
    @Order(2)
    void anActivityThatOutlastsTheGracePeriodIsInterruptedAndTheWorkerStillExitsOnTime() throws Exception {
        Path log = logs.resolve("overrun.log");
        Process worker = startWorker(log, "RegistryStartRun:300", 3);
        WorkflowStub run = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(new RetrainRequest(MODEL, "alice", "overrun test"));
        try {
            interruptedOnTime(worker, log);
        } finally {
            run.terminate("overrun test done");
        }
    }

    private void interruptedOnTime(Process worker, Path log) throws Exception {
        awaitLine(worker, log, "SLOW RegistryStartRun started", Duration.ofMinutes(3));

        long signalled = System.nanoTime();
        worker.destroy(); // SIGTERM
        if (!worker.waitFor(2, TimeUnit.MINUTES)) {
            fail("the worker did not exit within 2 minutes of SIGTERM; log:\n" + Files.readString(log));
        }
        double seconds = (System.nanoTime() - signalled) / 1e9;
        String out = Files.readString(log);
        assertThat(worker.exitValue()).as("log:\n%s", out).isZero();
        assertThat(out).contains("waiting up to 3 s", "workers stopped after 3 s with tasks still running", "SLOW RegistryStartRun interrupted")
                .doesNotContain("SLOW RegistryStartRun finished");
        System.out.printf("overrun: SIGTERM to exit %.1f s (activity held 300 s, grace 3 s)%n", seconds);
        assertThat(seconds).as("seconds from SIGTERM to exit").isLessThan(25);
    }

    private Process startWorker(Path log, String slow, int shutdownSeconds) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.addAll(List.of(System.getProperty("trellis.spark.jvm.options", "").trim().split("\\s+")));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), SlowActivityWorker.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(settings);
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        builder.environment().put("TRELLIS_SLOW_ACTIVITY", slow);
        builder.environment().put("TRELLIS_WORKER_SHUTDOWN_SECONDS", Integer.toString(shutdownSeconds));
        Process p = builder.start();
        workers.add(p);
        return p;
    }

    private static void awaitLine(Process worker, Path log, String line, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains(line)) {
                return;
            }
            if (!worker.isAlive()) {
                fail("the worker exited with " + worker.exitValue() + " before '" + line + "'; log:\n" + Files.readString(log));
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        fail("no '" + line + "' within " + timeout + "; log:\n" + Files.readString(log));
    }
}
