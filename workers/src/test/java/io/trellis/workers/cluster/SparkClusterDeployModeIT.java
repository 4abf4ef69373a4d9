package io.trellis.workers.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.ActivityCanceledException;
import io.temporal.common.RetryOptions;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.trellis.activities.spark.PricedUsageSink;
import io.trellis.activities.spark.cluster.ClusterSparkActivitiesImpl;
import io.trellis.activities.spark.cluster.SparkSubmitLauncher;
import io.trellis.activities.spark.cluster.SparkSubmitSettings;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster deploy mode on a real Spark standalone cluster (Master and Worker in their own JVMs on 127.0.0.1, from the Maven
 * jars): the Trellis worker's cluster-mode Spark activities ({@link ClusterSparkActivitiesImpl}, configured by settings
 * only, {@code trellis.spark.deploy.mode=cluster}) spark-submit the validation step, whose driver then runs inside the
 * Worker, not in a child process of the worker. First the step runs to its end: its real result (from the job's JSON
 * report, written by the driver on the Worker), its usage row under the application id the Master gave it, and its driver
 * finished on the Master. Then the step is cancelled while its driver runs on the Worker: the driver is killed through the
 * Master, its application ends, no process of it is left. The activity runs on Temporal's activity test environment (one
 * step, no workflow: a whole retrain in this mode would take minutes more; {@code SparkClusterRetrainIT} runs whole
 * retrains in client deploy mode).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkClusterDeployModeIT {
    private static final Duration CLUSTER_TIMEOUT = Duration.ofMinutes(3);
    /** The application name's start (then "attempt N"): the test environment's workflow id stands in for the run key. */
    private static final String VALIDATE_APP = "trellis snapshot + validate test-workflow-id attempt ";
    private static final Pattern DRIVER_ID = Pattern.compile("Driver successfully submitted as (driver-\\d{14}-\\d{4,})");
    /** Heartbeats reach the test environment at most every 0.8 x the heartbeat timeout: a cancellation lands within ~8 s. */
    private static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(10))
            .setHeartbeatTimeout(Duration.ofSeconds(10))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    private TestingSparkCluster cluster;
    private TrellisRuntime runtime;
    private ModelSpec spec;
    private TestActivityEnvironment env;

    @BeforeAll
    void startClusterAndStack() throws Exception {
        // 2 cores: one for a driver (spark.driver.cores=1 by default), one for an executor. Memory is only the Master's
        // bookkeeping here: a 1g driver plus a 768m executor.
        cluster = TestingSparkCluster.start(tmp, 2, "3g");
        Map<String, String> settings = new HashMap<>(TestingTrellisConfig.settings(SparkClusterDeployModeIT.class));
        settings.put("TRELLIS_SPARK_MODE", "cluster");
        settings.put("TRELLIS_SPARK_MASTER", cluster.masterUrl());
        settings.put("TRELLIS_SPARK_DEPLOY_MODE", "cluster");
        settings.put("TRELLIS_SPARK_HOME", cluster.sparkHome().toString());
        settings.put("TRELLIS_SPARK_JOBS_JAR", TestingSparkCluster.jobsJar().toString());
        settings.put("TRELLIS_SPARK_EXECUTOR_MEMORY", "768m");
        settings.put("TRELLIS_SPARK_EXECUTOR_CORES", "1");
        settings.put("TRELLIS_SPARK_EXECUTOR_INSTANCES", "1");
        settings.put("TRELLIS_SPARK_CONF", "spark.sql.shuffle.partitions=4,spark.databricks.delta.snapshotPartitions=2,spark.log.level=WARN");
        settings.put("TRELLIS_COSTS_ACCOUNTING", "true");
        settings.put("TRELLIS_COSTS_PRICE_CORE_HOUR", "100");
        settings.put("TRELLIS_COSTS_PRICE_SCAN_GB", "100");
        TrellisConfig config = TrellisConfig.load(Optional.empty(), settings);
        runtime = TrellisRuntime.open(config);
        new LocalRetrain(runtime, quiet()).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 2_000, 2, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        spec = ModelSpecLoader.parse(SampleModels.customerChurnYaml());
    }

    @BeforeEach
    void clusterModeActivities() {
        // What TrellisRuntime registers on the Spark task queue in cluster mode, from the same settings.
        SparkSubmitSettings submit = runtime.config().sparkSubmit().orElseThrow().requireInstalled();
        assertThat(submit.deployMode()).isEqualTo(SparkSubmitSettings.DeployMode.CLUSTER);
        env = TestActivityEnvironment.newInstance();
        env.registerActivitiesImplementations(new ClusterSparkActivitiesImpl(new SparkSubmitLauncher(submit), runtime.lake(),
                runtime.artifactStore(), new PricedUsageSink(runtime.metadata().resourceUsage(), runtime.config().prices())));
    }

    @AfterEach
    void closeEnvironment() {
        env.close();
    }

    @AfterAll
    void stopAll() {
        try {
            if (runtime != null) {
                runtime.close();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    @Test
    @Order(1)
    void theValidationStepRunsWithItsDriverOnTheWorkerAndReportsItsResultAndUsage() throws Exception {
        Set<Path> before = attemptDirs();

        SnapshotResult result = env.newActivityStub(SparkActivities.class, OPTIONS)
                .snapshotAndValidate(new SnapshotRequest("cluster-deploy-mode", spec));

        // The job's real result, from the report its driver wrote on the Worker.
        assertThat(result.source().rowCount()).isEqualTo(2_000);
        String source = runtime.lake().resolve(spec.source().table());
        assertThat(result.source().tablePath()).isEqualTo(source);
        assertThat(result.source().version()).as("the pinned version: the source's latest")
                .isEqualTo(DeltaTables.latestVersion(TestingSpark.session(), source));
        assertThat(result.rules()).isNotEmpty().allMatch(RuleResult::passed);
        assertThat(result.passed()).isTrue();

        // The driver ran inside the Worker (its own folder in the Worker's work folder) and finished there.
        Path attempt = newAttemptDir(before);
        String driverId = driverIdIn(attempt);
        assertThat(cluster.workerDir().resolve(driverId).resolve("stderr")).as("the driver's log on the Worker").isRegularFile();
        JsonNode master = cluster.masterState();
        assertThat(master.path("activedrivers")).isEmpty();
        assertThat(drivers(master.path("completeddrivers"))).containsEntry(driverId, "FINISHED");
        assertThat(master.path("activeapps")).isEmpty();
        Map<String, String> apps = validationApps(master.path("completedapps"));
        assertThat(apps.values()).as("applications of the validation step").containsExactly("FINISHED");
        String applicationId = apps.keySet().iterator().next();
        JsonNode report = JSON.readTree(attempt.resolve(SparkSubmitLauncher.REPORT_FILE).toFile());
        assertThat(report.path("applicationId").asText()).isEqualTo(applicationId);
        await("the driver's and the executor's processes gone", () -> cluster.liveExecutorProcesses() == 0);

        // Usage: one row for the attempt, from the job's report, under the Master's application id, priced.
        List<ResourceUsageRecord> usage = runtime.metadata().resourceUsage().attempts("test-workflow-id");
        assertThat(usage).singleElement().satisfies(row -> {
            assertThat(row.step()).isEqualTo("snapshot + validate");
            assertThat(row.outcome()).isEqualTo(UsageOutcome.SUCCEEDED);
            assertThat(row.modelName()).isEqualTo(spec.name());
            assertThat(row.sparkJobGroup()).isEqualTo(applicationId);
            assertThat(row.tasks()).isPositive();
            assertThat(row.executorRunMs()).isPositive();
            assertThat(row.recordsRead()).as("validation reads every source row at least once").isGreaterThanOrEqualTo(2_000);
            assertThat(row.wallMs()).isPositive();
            assertThat(runtime.config().prices().cost(row)).isPositive();
        });
    }

    @Test
    @Order(2)
    void cancellingTheStepKillsItsDriverThroughTheMaster() throws Exception {
        // An application holding one of the Worker's two cores: the step's driver gets the other one and runs, but its
        // application gets no executor, so the cancellation surely finds the driver running (no race with a tiny job).
        cluster.startBlocker(1);
        Set<Path> before = attemptDirs();
        Set<String> driversBefore = drivers(cluster.masterState().path("completeddrivers")).keySet();
        Set<String> appsBefore = validationApps(cluster.masterState().path("completedapps")).keySet();
        SparkActivities activities = env.newActivityStub(SparkActivities.class, OPTIONS);
        CompletableFuture<SnapshotResult> step = CompletableFuture.supplyAsync(
                () -> activities.snapshotAndValidate(new SnapshotRequest("cluster-deploy-mode-cancelled", spec)));
        await("the step's driver running on the Worker and its application registered", () -> {
            JsonNode master = cluster.masterState();
            boolean driverRunning = false;
            for (JsonNode d : master.path("activedrivers")) {
                driverRunning |= "RUNNING".equals(d.path("state").asText());
            }
            return driverRunning && !validationApps(master.path("activeapps")).isEmpty();
        });
        Path attempt = newAttemptDir(before);
        String driverId = driverIdIn(attempt);
        assertThat(driversBefore).doesNotContain(driverId);

        long cancelled = System.nanoTime();
        env.requestCancelActivity();
        ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> step.get(CLUSTER_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertThat(Stream.iterate(failure.getCause(), c -> c != null, Throwable::getCause))
                .as("the activity ended as cancelled: %s", failure.getCause())
                .anyMatch(c -> c instanceof CanceledFailure || c instanceof ActivityCanceledException);
        System.out.printf("cancellation to activity end: %.1f s%n", (System.nanoTime() - cancelled) / 1e9);

        // Killed through the Master: the driver ended KILLED, its application is no longer active.
        await("the driver " + driverId + " ended at the Master", () -> {
            JsonNode master = cluster.masterState();
            return drivers(master.path("completeddrivers")).containsKey(driverId) && validationApps(master.path("activeapps")).isEmpty();
        });
        JsonNode master = cluster.masterState();
        assertThat(drivers(master.path("completeddrivers"))).containsEntry(driverId, "KILLED");
        assertThat(drivers(master.path("activedrivers"))).doesNotContainKey(driverId);
        Map<String, String> cancelledApp = validationApps(master.path("completedapps"));
        cancelledApp.keySet().removeAll(appsBefore);
        assertThat(cancelledApp.values()).as("the cancelled step's application").singleElement()
                .satisfies(state -> assertThat(state).isIn("FINISHED", "KILLED"));
        // The job never completed: no report, or (the driver's JVM stops its SparkContext on the kill's SIGTERM, and the job's
        // main may still write why) a failure report, never an ok one.
        Path reportFile = attempt.resolve(SparkSubmitLauncher.REPORT_FILE);
        if (Files.exists(reportFile)) {
            JsonNode killedReport = JSON.readTree(reportFile.toFile());
            System.out.println("the killed job's report: " + killedReport);
            assertThat(killedReport.path("ok").asBoolean(true)).as("the killed job's report: %s", killedReport).isFalse();
        }
        // No process still runs the step: neither spark-submit (the submission client) nor the driver on the Worker.
        String reportArg = attempt.resolve(SparkSubmitLauncher.REPORT_FILE).toString();
        await("no process of the cancelled step left", () -> ProcessHandle.allProcesses()
                .noneMatch(p -> p.isAlive() && p.info().commandLine().orElse("").contains(reportArg)));
        cluster.stopBlocker();
        await("the Worker's driver and executor processes gone", () -> cluster.liveExecutorProcesses() == 0);

        // The cancelled attempt is recorded as such: no task ran (no executor); its group is the application's id where a
        // failure report was there when the attempt ended, else its name.
        assertThat(runtime.metadata().resourceUsage().attempts("test-workflow-id"))
                .filteredOn(row -> row.outcome() == UsageOutcome.CANCELLED).singleElement().satisfies(row -> {
                    assertThat(row.step()).isEqualTo("snapshot + validate");
                    assertThat(row.sparkJobGroup()).satisfiesAnyOf(group -> assertThat(group).startsWith(VALIDATE_APP),
                            group -> assertThat(cancelledApp).containsKey(group));
                    assertThat(row.tasks()).isZero();
                });
    }

    /** The driver id spark-submit logged for the attempt's submission (what the launcher kills by). */
    private static String driverIdIn(Path attempt) throws IOException {
        String log = Files.readString(attempt.resolve("spark-submit.log"), StandardCharsets.ISO_8859_1);
        Matcher m = DRIVER_ID.matcher(log);
        assertThat(m.find()).as("a driver id in spark-submit's log:%n%s", log).isTrue();
        return m.group(1);
    }

    /** Driver id to state, from a list of the Master's drivers. */
    private static Map<String, String> drivers(JsonNode list) {
        Map<String, String> drivers = new HashMap<>();
        for (JsonNode d : list) {
            drivers.put(d.path("id").asText(), d.path("state").asText());
        }
        return drivers;
    }

    /** Application id to state, for the validation step's applications in a list of the Master's applications. */
    private static Map<String, String> validationApps(JsonNode list) {
        Map<String, String> apps = new HashMap<>();
        for (JsonNode app : list) {
            if (app.path("name").asText().startsWith(VALIDATE_APP)) {
                apps.put(app.path("id").asText(), app.path("state").asText());
            }
        }
        return apps;
    }

    private Set<Path> attemptDirs() throws IOException {
        Path attempts = runtime.config().sparkSubmit().orElseThrow().workDir().resolve("attempts");
        if (!Files.isDirectory(attempts)) {
            return Set.of();
        }
        try (Stream<Path> dirs = Files.list(attempts)) {
            return new HashSet<>(dirs.toList());
        }
    }

    /** The one attempt folder made since {@code before}. */
    private Path newAttemptDir(Set<Path> before) throws IOException {
        Set<Path> now = attemptDirs();
        now.removeAll(before);
        assertThat(now).as("new attempt folders").hasSize(1);
        return now.iterator().next();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + CLUSTER_TIMEOUT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + CLUSTER_TIMEOUT + " waiting for " + what);
            }
            Thread.sleep(250);
        }
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
