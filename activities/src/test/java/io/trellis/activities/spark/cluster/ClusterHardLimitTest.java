package io.trellis.activities.spark.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.spark.UsageSink;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.JobMain;
import io.trellis.spark.Lake;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SparkActivities;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hard limit at the activity in cluster deploy mode, where the driver's REST API is not reachable: the limit is
 * checked between steps. Through {@link ClusterSparkActivitiesImpl} on Temporal's activity test environment, with a
 * stand-in {@code bin/spark-submit} that writes the report a job would (its usage included) and counts its starts. (The
 * run in the messages is the workflow id, {@code test-workflow-id} in that environment.)
 */
class ClusterHardLimitTest {
    private static final String FAKE_SUBMIT = """
            #!/usr/bin/env bash
            report=""; prev=""
            for a in "$@"; do if [ "$prev" = "--report" ]; then report="$a"; fi; prev="$a"; done
            echo started >> "$FAKE_STARTS"
            if [ -z "$FAKE_REPORT" ]; then exec sleep 600; fi
            printf '%s' "$FAKE_REPORT" > "$report"
            """;
    /** 36 per core-hour: one second of executor run time costs 0.01. */
    private static final PriceSheet PRICES = new PriceSheet("USD", 36.0, 0, 0, 0);
    private static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(3).build())
            .build();

    @TempDir
    Path tmp;
    private TestActivityEnvironment env;
    private final List<ResourceUsageRecord> recorded = new CopyOnWriteArrayList<>();
    private volatile double spentBefore;

    /** Records into {@link #recorded}; the run has already cost {@link #spentBefore}; prices with {@link #PRICES}. */
    private final UsageSink sink = new UsageSink() {
        @Override
        public void record(ResourceUsageRecord usage) {
            recorded.add(usage);
        }

        @Override
        public double recordedCost(String workflowId) {
            return spentBefore;
        }

        @Override
        public double cost(ResourceUsageRecord usage) {
            return PRICES.cost(usage);
        }
    };

    private Path sparkHome;
    private Path jar;

    @BeforeEach
    void clusterDeployModeActivities() throws IOException {
        sparkHome = Files.createDirectories(tmp.resolve("spark/bin")).getParent();
        Path submit = Files.writeString(sparkHome.resolve("bin/spark-submit"), FAKE_SUBMIT, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        // Cluster deploy mode on spark:// needs bin/spark-class (to kill a driver through the Master); never called here.
        Path sparkClass = Files.writeString(sparkHome.resolve("bin/spark-class"), "#!/usr/bin/env bash\nexit 1\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(sparkClass, PosixFilePermissions.fromString("rwxr-xr-x"));
        jar = Files.writeString(tmp.resolve("jobs.jar"), "not read by the stand-in");
        // The validation job's report: ok, and 50 s of executor run time (0.50 at these prices).
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("job", "validate");
        report.put("ok", true);
        report.put("result", Map.of("tablePath", "raw/t", "deltaVersion", 0, "rowCount", 10, "passed", true, "results", List.of()));
        report.put("applicationId", "driver-20261202050000-0001");
        report.put("usage", new ResourceUsage(2, 8, 0, 50_000, 0, 4096, 10, 0, 0, 0, 0, 0, 0, 0));
        SparkSubmitLauncher launcher = new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077",
                SparkSubmitSettings.DeployMode.CLUSTER, jar, "512m", 1, Optional.empty(), "512m", "127.0.0.1", Map.of(),
                tmp.resolve("work")).requireInstalled(),
                Map.of("FAKE_REPORT", JobMain.toJson(report), "FAKE_STARTS", tmp.resolve("starts").toString()));
        env = TestActivityEnvironment.newInstance();
        env.registerActivitiesImplementations(new ClusterSparkActivitiesImpl(launcher, new Lake(tmp.resolve("lake").toString()),
                new LocalArtifactStore(tmp.resolve("artifacts")), sink));
    }

    @AfterEach
    void close() {
        env.close();
    }

    @Test
    @Timeout(120)
    void inClientDeployModeARunningApplicationOverTheLimitIsStoppedAndItsLiveEstimateRecorded() throws Exception {
        // The driver's REST API (a stand-in): our application (the test environment reports attempt 0), one stage with 50 s
        // of executor run time (0.50) so far.
        HttpServer ui = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        ui.createContext("/api/v1/applications", exchange -> {
            String body = switch (exchange.getRequestURI().getPath()) {
                case "/api/v1/applications" -> "[{\"id\":\"app-7\",\"name\":\"trellis snapshot + validate test-workflow-id attempt 0\"}]";
                case "/api/v1/applications/app-7/jobs" -> "[{\"jobId\":0,\"status\":\"RUNNING\"}]";
                case "/api/v1/applications/app-7/stages" -> "[{\"status\":\"ACTIVE\",\"numCompleteTasks\":2,\"numFailedTasks\":0,"
                        + "\"numKilledTasks\":0,\"executorRunTime\":50000,\"inputBytes\":4096,\"peakExecutionMemory\":0}]";
                default -> null;
            };
            byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        ui.start();
        try {
            env.close();
            SparkSubmitLauncher clientMode = new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077",
                    SparkSubmitSettings.DeployMode.CLIENT, jar, "512m", 1, Optional.empty(), "512m", "127.0.0.1",
                    Map.of("spark.ui.port", Integer.toString(ui.getAddress().getPort())), tmp.resolve("work")).requireInstalled(),
                    Map.of("FAKE_REPORT", "", "FAKE_STARTS", tmp.resolve("starts").toString()));
            env = TestActivityEnvironment.newInstance();
            env.registerActivitiesImplementations(new ClusterSparkActivitiesImpl(clientMode, new Lake(tmp.resolve("lake").toString()),
                    new LocalArtifactStore(tmp.resolve("artifacts")), sink));
            spentBefore = 0.6;
            SparkActivities activities = env.newActivityStub(SparkActivities.class, OPTIONS);

            assertThatThrownBy(() -> activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/4", spec(1.0))))
                    .isInstanceOf(ActivityFailure.class)
                    .cause().isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                        assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
                        assertThat(f.isNonRetryable()).isTrue();
                        assertThat(f.getOriginalMessage()).isEqualTo("snapshot + validate cancelled: run test-workflow-id reached an"
                                + " estimated cost of 1.100000, over the hard limit of 1.000000 per run (budget.hardLimitPerRun of"
                                + " customer-churn); its Spark application was stopped and killed while its jobs ran. Raise the limit"
                                + " in the spec, or reduce the input.");
                    });
            assertThat(starts()).isEqualTo(1);
            // No report from the killed job: the row is the live estimate that stopped it, under the driver's application id.
            assertThat(recorded).singleElement().satisfies(r -> {
                assertThat(r.outcome()).isEqualTo(UsageOutcome.OVER_LIMIT);
                assertThat(r.executorRunMs()).isEqualTo(50_000);
                assertThat(r.tasks()).isEqualTo(2);
                assertThat(r.bytesRead()).isEqualTo(4096);
                assertThat(r.sparkJobGroup()).isEqualTo("app-7");
            });
        } finally {
            ui.stop(0);
        }
    }

    private static ModelSpec spec(double hardLimit) {
        return ModelSpecLoader.parse(SampleModels.customerChurnYaml() + "\nbudget: {hardLimitPerRun: " + hardLimit + "}\n");
    }

    private long starts() throws IOException {
        Path starts = tmp.resolve("starts");
        return Files.exists(starts) ? Files.readAllLines(starts).size() : 0;
    }

    @Test
    void underTheLimitTheStepSucceedsAndIsRecorded() throws IOException {
        spentBefore = 0.2;
        SparkActivities activities = env.newActivityStub(SparkActivities.class, OPTIONS);

        assertThat(activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/1", spec(1.0))).source().rowCount())
                .isEqualTo(10);
        assertThat(recorded).singleElement().satisfies(r -> assertThat(r.outcome()).isEqualTo(UsageOutcome.SUCCEEDED));
        assertThat(starts()).isEqualTo(1);
    }

    @Test
    void aStepWhoseReportTakesTheRunOverTheLimitFailsTheRunThereNotRetried() throws IOException {
        spentBefore = 0.6;
        SparkActivities activities = env.newActivityStub(SparkActivities.class, OPTIONS);

        assertThatThrownBy(() -> activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/2", spec(1.0))))
                .isInstanceOf(ActivityFailure.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
                    assertThat(f.isNonRetryable()).isTrue();
                    assertThat(f.getOriginalMessage()).isEqualTo("snapshot + validate went over the hard limit: run"
                            + " test-workflow-id reached an estimated cost of 1.100000 with this step, over the hard limit of"
                            + " 1.000000 per run (budget.hardLimitPerRun of customer-churn); its Spark application had already"
                            + " finished (in cluster deploy mode the driver's REST API is not reachable, so its usage was known only"
                            + " when it ended), so what it wrote stays, but the run stops here. Raise the limit in the spec, or"
                            + " reduce the input.");
                });
        assertThat(starts()).as("not retried").isEqualTo(1);
        assertThat(recorded).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(UsageOutcome.OVER_LIMIT);
            assertThat(r.executorRunMs()).isEqualTo(50_000);
            assertThat(r.sparkJobGroup()).isEqualTo("driver-20261202050000-0001");
        });
    }

    @Test
    void aRunAlreadyOverItsLimitSubmitsNothingMore() throws IOException {
        spentBefore = 1.5;
        SparkActivities activities = env.newActivityStub(SparkActivities.class, OPTIONS);

        assertThatThrownBy(() -> activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/3", spec(1.0))))
                .isInstanceOf(ActivityFailure.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
                    assertThat(f.isNonRetryable()).isTrue();
                    assertThat(f.getOriginalMessage()).startsWith("snapshot + validate not started: run test-workflow-id has"
                            + " already reached an estimated cost of 1.500000, over the hard limit of 1.000000 per run");
                });
        assertThat(starts()).as("no spark-submit").isZero();
        assertThat(recorded).as("nothing ran, nothing recorded").isEmpty();
    }
}
