package io.trellis.activities.spark.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.temporal.client.ActivityCanceledException;
import io.temporal.failure.ApplicationFailure;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import io.trellis.spark.usage.ResourceUsage;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import io.trellis.workflows.activities.SparkStepProgress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's contract with spark-submit, against a stand-in {@code bin/spark-submit} (a shell script that writes
 * the report a job would, or exits without one, or hangs) started through the real {@code SparkLauncher}: how a report
 * becomes a result or a typed failure, and that a sink refusing a heartbeat (a cancelled activity) kills the process.
 * A real cluster is in {@code SparkClusterRetrainIT} (workers).
 */
class SparkSubmitLauncherTest {
    private static final String FAKE_SUBMIT = """
            #!/usr/bin/env bash
            report=""; prev=""
            for a in "$@"; do if [ "$prev" = "--report" ]; then report="$a"; fi; prev="$a"; done
            echo "fake spark-submit $*"
            echo $$ > "$(dirname "$report")/pid"
            case "$FAKE_MODE" in
              ok) echo '{"job":"t","ok":true,"result":{"rows":42}}' > "$report"; exit 0;;
              user) echo '{"job":"t","ok":false,"errorCode":"MISSING_TABLE","message":"table raw/t does not exist"}' > "$report"; exit 2;;
              transient) echo '{"job":"t","ok":false,"errorCode":"TRANSIENT","message":"connection reset"}' > "$report"; exit 2;;
              crash) echo "ExecutorLostFailure: executor 1 exited"; exit 1;;
              hang) exec sleep 600;;
              submitted) echo "INFO ClientEndpoint: Driver successfully submitted as driver-20261202071500-0003"; exec sleep 600;;
              driverfailed) echo "INFO ClientEndpoint: Driver successfully submitted as driver-20261202071500-0004"
                echo "INFO ClientEndpoint: State of driver driver-20261202071500-0004 is FAILED, exiting spark-submit JVM."; exit 0;;
              refused) echo "WARN ClientEndpoint: Error sending messages to master spark://127.0.0.1:7077"; exit 0;;
            esac
            """;
    /** Records how it was called (a standalone driver kill) in the Spark home's {@code kills}. */
    private static final String FAKE_SPARK_CLASS = """
            #!/usr/bin/env bash
            echo "$*" >> "$(dirname "$0")/../kills"
            """;

    @TempDir
    Path tmp;
    private Path sparkHome;
    private Path jar;

    @BeforeEach
    void fakeSparkHome() throws IOException {
        sparkHome = Files.createDirectories(tmp.resolve("spark/bin")).getParent();
        Path submit = Files.writeString(sparkHome.resolve("bin/spark-submit"), FAKE_SUBMIT, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path sparkClass = Files.writeString(sparkHome.resolve("bin/spark-class"), FAKE_SPARK_CLASS, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(sparkClass, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Files.writeString(tmp.resolve("jobs.jar"), "not read by the stand-in");
    }

    private SparkSubmitLauncher standaloneCluster(String mode) {
        return new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077", SparkSubmitSettings.DeployMode.CLUSTER,
                jar, "512m", 1, Optional.empty(), "512m", "127.0.0.1", Map.of("spark.driver.extraJavaOptions", "-Dtrellis.test=1"),
                tmp.resolve("work")).requireInstalled(), Map.of("FAKE_MODE", mode));
    }

    @Test
    void inStandaloneClusterDeployModeACancelledStepKillsItsDriverThroughTheMaster() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("attempt-submitted"));
        List<SparkStepProgress> beats = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> standaloneCluster("submitted").submit("step", "trellis step test", SparkSubmitLauncherTest.class,
                List.of(), dir, p -> {
                    beats.add(p);
                    throw new ActivityCanceledException();
                })).isInstanceOf(ActivityCanceledException.class);

        // spark-submit is only the submission client: the driver (its id from spark-submit's log) is killed through the Master,
        // then the client process itself.
        assertThat(Files.readAllLines(sparkHome.resolve("kills")))
                .containsExactly("org.apache.spark.deploy.Client kill spark://127.0.0.1:7077 driver-20261202071500-0003");
        assertKilled(dir);
        assertThat(beats).singleElement().satisfies(p -> assertThat(p.step())
                .isEqualTo("step [driver-20261202071500-0003 on spark://127.0.0.1:7077]"));
        // The driver's JVM on the Worker gets Spark's Java module options, then trellis.spark.conf's own options.
        assertThat(Files.readString(dir.resolve("spark-submit.log"))).contains("--deploy-mode cluster",
                "spark.standalone.submit.waitAppCompletion=true",
                "spark.driver.extraJavaOptions=" + org.apache.spark.launcher.JavaModuleOptions.defaultModuleOptions() + " -Dtrellis.test=1");
    }

    @Test
    void inStandaloneClusterDeployModeAFailureWithoutAReportPointsAtTheDriversLogOnTheWorker() {
        assertThatThrownBy(() -> standaloneCluster("driverfailed").submit("step", "trellis step test", SparkSubmitLauncherTest.class,
                List.of(), Files.createDirectories(tmp.resolve("attempt-driverfailed")), p -> { }))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(SparkSubmitLauncher.APPLICATION_FAILED);
                    assertThat(f.isNonRetryable()).isFalse();
                    assertThat(f.getOriginalMessage()).contains("wrote no report",
                            "Its driver driver-20261202071500-0004 ran on a standalone Worker; the driver's own log is"
                                    + " driver-20261202071500-0004/stderr in that Worker's work folder",
                            "is FAILED, exiting spark-submit JVM.");
                });
        assertThatThrownBy(() -> standaloneCluster("refused").submit("step", "trellis step test", SparkSubmitLauncherTest.class,
                List.of(), Files.createDirectories(tmp.resolve("attempt-refused")), p -> { }))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getOriginalMessage())
                        .contains("spark-submit's log names no driver: the Master did not accept the submission",
                                "Error sending messages to master"));
    }

    private SparkSubmitLauncher launcher(String mode) {
        return new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077", SparkSubmitSettings.DeployMode.CLIENT,
                jar, "512m", 1, Optional.of(2), "512m", "127.0.0.1", Map.of(), tmp.resolve("work")).requireInstalled(),
                Map.of("FAKE_MODE", mode));
    }

    private JsonNode submit(String mode, SparkSubmitLauncher.ProgressSink sink) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("attempt-" + mode));
        return launcher(mode).submit("step", "trellis step test", SparkSubmitLauncherTest.class, List.of("--spec", "s.spec.json"), dir, sink);
    }

    @Test
    void anOkReportIsTheResultAndTheSubmissionCarriesTheSettings() throws IOException {
        JsonNode result = submit("ok", p -> { });

        assertThat(result.path("rows").asLong()).isEqualTo(42);
        String log = Files.readString(tmp.resolve("attempt-ok/spark-submit.log"));
        assertThat(log).contains("--master spark://127.0.0.1:7077", "--deploy-mode client", "--class " + SparkSubmitLauncherTest.class.getName(),
                "spark.executor.memory=512m", "spark.executor.cores=1", "spark.executor.instances=2", "spark.cores.max=2",
                "spark.driver.host=127.0.0.1", "--spec s.spec.json --report " + tmp.resolve("attempt-ok/report.json"));
    }

    @Test
    void theSpecsResourcesForAStepReplaceTheSettingsOnItsCommandLine() throws IOException {
        ModelSpec.Resources spec = new ModelSpec.Resources("2g", 2, null, "1g",
                Map.of("train", new ModelSpec.Resources("4g", null, 3, null, null)));
        Path trainDir = Files.createDirectories(tmp.resolve("attempt-train"));
        Path validateDir = Files.createDirectories(tmp.resolve("attempt-validate"));

        launcher("ok").submit("train", "trellis train", SparkSubmitLauncherTest.class, List.of(), trainDir, p -> { }, spec.forStep("train"));
        launcher("ok").submit("validate", "trellis validate", SparkSubmitLauncherTest.class, List.of(), validateDir, p -> { },
                spec.forStep("validate"));
        launcher("ok").submit("plain", "trellis plain", SparkSubmitLauncherTest.class, List.of(), tmp, p -> { }, null);

        // train: its own memory and instances, the defaults' cores and driver memory; standalone caps cores at 3 x 2.
        assertThat(Files.readString(trainDir.resolve("spark-submit.log")))
                .contains("spark.executor.memory=4g", "spark.executor.cores=2", "spark.executor.instances=3", "spark.cores.max=6",
                        "spark.driver.memory=1g")
                .doesNotContain("spark.executor.memory=512m", "spark.executor.instances=2", "spark.driver.memory=512m");
        // validate: the defaults, and the settings' instance count where the spec sets none.
        assertThat(Files.readString(validateDir.resolve("spark-submit.log")))
                .contains("spark.executor.memory=2g", "spark.executor.cores=2", "spark.executor.instances=2", "spark.cores.max=4",
                        "spark.driver.memory=1g");
        // No resources: the settings alone.
        assertThat(Files.readString(tmp.resolve("spark-submit.log")))
                .contains("spark.executor.memory=512m", "spark.executor.cores=1", "spark.executor.instances=2", "spark.cores.max=2",
                        "spark.driver.memory=512m");
    }

    @Test
    void aReportedUserErrorIsNonRetryableWithItsErrorCode() {
        assertThatThrownBy(() -> submit("user", p -> { }))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.MISSING_TABLE.name());
                    assertThat(f.isNonRetryable()).isTrue();
                    assertThat(f.getOriginalMessage()).isEqualTo("table raw/t does not exist");
                });
    }

    @Test
    void aReportedTransientErrorIsRetryable() {
        assertThatThrownBy(() -> submit("transient", p -> { }))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.TRANSIENT.name());
                    assertThat(f.isNonRetryable()).isFalse();
                });
    }

    @Test
    void anApplicationThatEndsWithoutAReportIsARetryableApplicationFailureWithItsLog() {
        assertThatThrownBy(() -> submit("crash", p -> { }))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(SparkSubmitLauncher.APPLICATION_FAILED);
                    assertThat(f.isNonRetryable()).isFalse();
                    assertThat(f.getOriginalMessage()).contains("wrote no report", "ExecutorLostFailure: executor 1 exited");
                });
    }

    @Test
    void aRefusedHeartbeatKillsTheApplication() throws Exception {
        List<SparkStepProgress> beats = new CopyOnWriteArrayList<>();
        assertThatThrownBy(() -> submit("hang", p -> {
            beats.add(p);
            throw new ActivityCanceledException();
        })).isInstanceOf(ActivityCanceledException.class);

        assertThat(beats).singleElement().satisfies(p -> assertThat(p.step()).startsWith("step ["));
        long pid = Long.parseLong(Files.readString(tmp.resolve("attempt-hang/pid")).trim());
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the spark-submit process").isFalse();
    }

    /**
     * A stand-in for a client-mode driver's REST status API on {@code port}: {@code /api/v1/applications} lists one
     * application named {@code appName} ({@code app-7}); its jobs are empty and its stages are whatever {@code stages}
     * answers for the n-th request (from 1).
     */
    private static HttpServer driverApi(String appName, java.util.function.IntFunction<String> stages) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger stageRequests = new AtomicInteger();
        server.createContext("/api/v1/applications", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String body;
            if (path.equals("/api/v1/applications") || path.equals("/api/v1/applications/")) {
                body = "[{\"id\":\"app-7\",\"name\":\"" + appName + "\",\"attempts\":[{\"completed\":false}]}]";
            } else if (path.equals("/api/v1/applications/app-7/jobs")) {
                body = "[{\"jobId\":0,\"status\":\"RUNNING\",\"stageIds\":[0],\"numTasks\":4,\"numCompletedTasks\":1}]";
            } else if (path.equals("/api/v1/applications/app-7/stages")) {
                body = stages.apply(stageRequests.incrementAndGet());
            } else {
                body = null;
            }
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : bytes.length);
            if (body != null) {
                exchange.getResponseBody().write(bytes);
            }
            exchange.close();
        });
        server.start();
        return server;
    }

    /** One running stage with {@code runMillis} of executor run time over 2 ended tasks. */
    private static String stage(long runMillis) {
        return "[{\"status\":\"ACTIVE\",\"stageId\":0,\"attemptId\":0,\"numTasks\":4,\"numActiveTasks\":2,\"numCompleteTasks\":2,"
                + "\"numFailedTasks\":0,\"numKilledTasks\":0,\"executorRunTime\":" + runMillis + ",\"executorCpuTime\":1000000,"
                + "\"inputBytes\":2048,\"inputRecords\":100,\"outputBytes\":0,\"outputRecords\":0,\"shuffleReadBytes\":0,"
                + "\"shuffleWriteBytes\":512,\"peakExecutionMemory\":4096}]";
    }

    private SparkSubmitLauncher launcherWithUi(String mode, int uiPort) {
        return new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077", SparkSubmitSettings.DeployMode.CLIENT,
                jar, "512m", 1, Optional.of(2), "512m", "127.0.0.1", Map.of("spark.ui.port", Integer.toString(uiPort)), tmp.resolve("work"))
                .requireInstalled(), Map.of("FAKE_MODE", mode));
    }

    private static void assertKilled(Path attemptDir) throws Exception {
        long pid = Long.parseLong(Files.readString(attemptDir.resolve("pid")).trim());
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the spark-submit process").isFalse();
    }

    @Test
    void aRunningApplicationWhoseLiveUsageGoesOverTheLimitIsStoppedAndKilled() throws Exception {
        // Under the limit for the first three polls, then over: the launcher keeps polling, then stops the application.
        HttpServer ui = driverApi("trellis step test", n -> stage(n <= 3 ? 400 : 9_000));
        try {
            Path dir = Files.createDirectories(tmp.resolve("attempt-limit"));
            List<ResourceUsage> checked = new CopyOnWriteArrayList<>();
            long started = System.nanoTime();
            assertThatThrownBy(() -> launcherWithUi("hang", ui.getAddress().getPort()).submit("step", "trellis step test",
                    SparkSubmitLauncherTest.class, List.of(), dir, p -> { }, null, live -> {
                        checked.add(live);
                        return live.executorRunMillis() > 5_000 ? "step cancelled: over the hard limit at " + live.executorRunMillis() : null;
                    }))
                    .isInstanceOfSatisfying(SparkSubmitLauncher.OverLimit.class, over -> {
                        assertThat(over.getMessage()).isEqualTo("step cancelled: over the hard limit at 9000");
                        assertThat(over.applicationId()).isEqualTo("app-7");
                        assertThat(over.usage().executorRunMillis()).isEqualTo(9_000);
                        assertThat(over.usage().tasks()).isEqualTo(2);
                        assertThat(over.usage().bytesRead()).isEqualTo(2048);
                        assertThat(over.usage().jobs()).isEqualTo(1);
                    });
            // Every poll that got an answer was checked: under the limit until the last one.
            assertThat(checked).hasSizeGreaterThanOrEqualTo(2);
            assertThat(checked.subList(0, checked.size() - 1)).extracting(ResourceUsage::executorRunMillis).containsOnly(400L);
            assertThat(checked.get(checked.size() - 1).executorRunMillis()).isEqualTo(9_000L);
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("checked about every second").isGreaterThan(Duration.ofSeconds(3));
            assertKilled(dir);
            assertThat(Files.readString(dir.resolve("spark-submit.log"))).contains("spark.ui.port=" + ui.getAddress().getPort());
        } finally {
            ui.stop(0);
        }
    }

    @Test
    void aUiServingAnotherApplicationIsNeverReadAsOurs() throws Exception {
        HttpServer ui = driverApi("trellis other app", n -> stage(1_000_000));
        try {
            Path dir = Files.createDirectories(tmp.resolve("attempt-other"));
            List<ResourceUsage> checked = new CopyOnWriteArrayList<>();
            List<SparkStepProgress> beats = new CopyOnWriteArrayList<>();
            assertThatThrownBy(() -> launcherWithUi("hang", ui.getAddress().getPort()).submit("step", "trellis step test",
                    SparkSubmitLauncherTest.class, List.of(), dir, p -> {
                        beats.add(p);
                        if (beats.size() == 3) {
                            throw new ActivityCanceledException();
                        }
                    }, null, live -> {
                        checked.add(live);
                        return "over";
                    })).isInstanceOf(ActivityCanceledException.class);
            assertThat(checked).as("no usage read from another application's UI").isEmpty();
            assertThat(beats).allSatisfy(p -> assertThat(p.tasksTotal()).isZero());
            assertKilled(dir);
        } finally {
            ui.stop(0);
        }
    }

    @Test
    void withoutAReachableDriverApiNothingIsCheckedWhileTheApplicationRuns() throws Exception {
        // Cluster deploy mode: the driver runs on the cluster, its UI is not polled; the caller checks the report at the end.
        SparkSubmitLauncher clusterMode = new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077",
                SparkSubmitSettings.DeployMode.CLUSTER, jar, "512m", 1, Optional.of(2), "512m", "127.0.0.1", Map.of(), tmp.resolve("work"))
                .requireInstalled(), Map.of("FAKE_MODE", "ok"));
        List<ResourceUsage> checked = new CopyOnWriteArrayList<>();
        JsonNode result = clusterMode.submit("step", "trellis step test", SparkSubmitLauncherTest.class, List.of(),
                Files.createDirectories(tmp.resolve("attempt-cluster")), p -> { }, null, live -> {
                    checked.add(live);
                    return "over";
                });
        assertThat(result.path("rows").asLong()).isEqualTo(42);
        assertThat(checked).isEmpty();
    }

    @Test
    void settingsRefuseALocalMasterAndAMissingSparkSubmit() throws IOException {
        assertThatThrownBy(() -> new SparkSubmitSettings(sparkHome, "local[*]", SparkSubmitSettings.DeployMode.CLIENT, jar, "1g", 1,
                Optional.empty(), "1g", "127.0.0.1", Map.of(), tmp))
                .isInstanceOf(TrellisException.class).hasMessageContaining("spark://host:port, k8s://https://host:port or yarn");
        assertThatThrownBy(() -> new SparkSubmitSettings(tmp.resolve("nowhere"), "yarn", SparkSubmitSettings.DeployMode.CLUSTER, jar, "1g", 1,
                Optional.empty(), "1g", "127.0.0.1", Map.of(), tmp).requireInstalled())
                .isInstanceOf(TrellisException.class).hasMessageContaining("has no bin/spark-submit");
        Path noSparkClass = Files.createDirectories(tmp.resolve("submit-only/bin")).getParent();
        Files.writeString(noSparkClass.resolve("bin/spark-submit"), FAKE_SUBMIT, StandardCharsets.UTF_8);
        assertThat(new SparkSubmitSettings(noSparkClass, "spark://127.0.0.1:7077", SparkSubmitSettings.DeployMode.CLIENT, jar, "1g", 1,
                Optional.empty(), "1g", "127.0.0.1", Map.of(), tmp).requireInstalled()).isNotNull();
        assertThatThrownBy(() -> new SparkSubmitSettings(noSparkClass, "spark://127.0.0.1:7077", SparkSubmitSettings.DeployMode.CLUSTER,
                jar, "1g", 1, Optional.empty(), "1g", "127.0.0.1", Map.of(), tmp).requireInstalled())
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("has no bin/spark-class, which cluster deploy mode on a standalone master needs");
        assertThat(SparkSubmitSettings.parseConf("spark.yarn.queue=ml, spark.kubernetes.container.image=repo/spark:4.2.0"))
                .containsExactly(Map.entry("spark.yarn.queue", "ml"), Map.entry("spark.kubernetes.container.image", "repo/spark:4.2.0"));
        assertThatThrownBy(() -> SparkSubmitSettings.parseConf("queue=ml")).hasMessageContaining("'queue=ml' is not one");
    }
}
