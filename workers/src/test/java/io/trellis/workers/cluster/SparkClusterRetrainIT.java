package io.trellis.workers.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.temporal.failure.CanceledFailure;
import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestActivityEnvironment;
import io.trellis.activities.promotion.PromotionActivitiesImpl;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.cluster.ClusterScoringActivitiesImpl;
import io.trellis.activities.spark.cluster.ClusterSparkActivitiesImpl;
import io.trellis.activities.spark.cluster.SparkSubmitLauncher;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.metadata.UsageTotals;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.RetrainRunner;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.temporal.activity.Activity;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.BatchScoreRequest;
import io.trellis.workflows.promotion.BatchScoreResult;
import io.trellis.workflows.promotion.ScoringActivities;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringRunResult;
import io.trellis.workflows.promotion.ScoringTarget;
import io.trellis.workflows.promotion.ScoringWorkflow;
import io.trellis.workflows.promotion.ShadowRequest;
import io.trellis.workflows.promotion.ShadowResult;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RunStatus;
import io.trellis.spark.testing.TestingSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * Cluster mode end to end: a real Spark standalone cluster (Master and Worker in their own JVMs on 127.0.0.1, from the
 * Maven jars) and a worker configured only by settings ({@code trellis.spark.mode=cluster}, the {@code spark://} master,
 * the Spark home, the shaded jobs jar). Real retrains go through the Temporal workflow (the embedded test server) and
 * PostgreSQL, and every Spark step of them is a spark-submitted application on the cluster. Then a retrain is cancelled
 * while its feature job runs on the cluster: the application is killed (no application left running, no executor
 * process left), and the feature table holds no commit of the cancelled run. Last, a run whose spec's
 * {@code budget.hardLimitPerRun} is tiny: its first application is stopped on the cluster once its live usage (the
 * driver's REST API) prices over the limit, the run fails BUDGET_EXCEEDED with the limit's message (run row and audit),
 * the attempt is recorded OVER_LIMIT, and nothing further runs or is written. And batch scoring (the Score workflow) of
 * the first run's model is a spark-submitted application too: one predictions commit under its run key, its usage
 * recorded, and a retried attempt with the same run key appends nothing; a staging shadow run is an application as well.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkClusterRetrainIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private static final List<String> STEPS = List.of("snapshot + validate", "build features", "train", "evaluate");
    private static final Duration CLUSTER_TIMEOUT = Duration.ofMinutes(3);
    private static final String RESOURCES = """
            resources:
              executorMemory: 640m
              steps:
                train: {executorMemory: 896m, executorCores: 2}
            """;

    @TempDir
    static Path tmp;
    private TestingSparkCluster cluster;
    private TrellisRuntime runtime;
    private final List<SparkActivities> registered = new ArrayList<>();
    private volatile String holdFeaturesOf;

    @BeforeAll
    void startClusterAndStack() throws Exception {
        cluster = TestingSparkCluster.start(tmp, 2, "2g");
        Map<String, String> env = new HashMap<>(TestingTrellisConfig.settings(SparkClusterRetrainIT.class));
        env.put("TRELLIS_SPARK_MODE", "cluster");
        env.put("TRELLIS_SPARK_MASTER", cluster.masterUrl());
        env.put("TRELLIS_SPARK_HOME", cluster.sparkHome().toString());
        env.put("TRELLIS_SPARK_JOBS_JAR", TestingSparkCluster.jobsJar().toString());
        env.put("TRELLIS_SPARK_EXECUTOR_MEMORY", "768m");
        env.put("TRELLIS_SPARK_EXECUTOR_CORES", "1");
        env.put("TRELLIS_SPARK_EXECUTOR_INSTANCES", "1");
        env.put("TRELLIS_SPARK_DRIVER_HOST", "127.0.0.1");
        env.put("TRELLIS_SPARK_CONF", "spark.sql.shuffle.partitions=4,spark.databricks.delta.snapshotPartitions=2,spark.log.level=WARN");
        // A price sheet that makes every step's recorded usage cost something visible.
        env.put("TRELLIS_COSTS_ACCOUNTING", "true");
        env.put("TRELLIS_COSTS_PRICE_CORE_HOUR", "100");
        env.put("TRELLIS_COSTS_PRICE_SCAN_GB", "100");
        TrellisConfig config = TrellisConfig.load(Optional.empty(), env);
        runtime = TrellisRuntime.open(config, spark -> {
            registered.add(spark);
            return new HoldingFeatures(spark);
        });
        new LocalRetrain(runtime, quiet()).generateSampleData(new SampleDataOptions(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 2_000, 2, 5, SampleDataOptions.NO_DRIFT, 1.0), "loader");
        // The spec's resources replace the worker's executor settings (768m, 1 core): 640m for every job, train 896m x 2 cores.
        String yaml = SampleModels.customerChurnYaml() + RESOURCES;
        var spec = ModelSpecLoader.parse(yaml);
        runtime.registry().applyModelSpec(spec.name(), yaml, ModelSpecLoader.sha256(yaml), spec.environments(), "alice");
        runtime.startWorkers();
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
    void aRetrainRunsEachOfItsSparkStepsAsAnApplicationOnTheStandaloneCluster() throws Exception {
        assertThat(registered).singleElement().isInstanceOf(ClusterSparkActivitiesImpl.class);
        String features = SparkActivitiesImpl.featureTable(runtime.lake(), MODEL);

        RetrainRunner.Outcome outcome = new RetrainRunner(runtime, quiet()).run(new RetrainRequest(MODEL, "alice", "on the cluster"));

        assertThat(outcome.status()).as("%s %s", outcome.failureType(), outcome.message()).isEqualTo(RunStatus.SUCCEEDED);
        RetrainResult result = outcome.result();
        assertThat(result.source().rowCount()).isEqualTo(2_000);
        assertThat(result.version()).isEqualTo(1);
        assertThat(DeltaTables.latestVersion(TestingSpark.session(), features)).isZero();
        assertThat(DeltaTables.userMetadata(TestingSpark.session(), features)).containsExactly(outcome.runKey());
        assertThat(runtime.registry().version(MODEL, 1)).isPresent();

        // The Master ran one application per step of this run, each to the end, on this cluster's worker.
        JsonNode master = cluster.masterState();
        assertThat(master.path("activeapps")).isEmpty();
        List<String> apps = new ArrayList<>();
        Map<String, Integer> executorMemoryMb = new HashMap<>();
        Map<String, String> applicationIds = new HashMap<>();
        for (JsonNode app : master.path("completedapps")) {
            if (app.path("name").asText().contains(outcome.runKey())) {
                String step = app.path("name").asText().replace(" " + outcome.runKey() + " attempt 1", "").replace("trellis ", "");
                apps.add("trellis " + step + "=" + app.path("state").asText());
                executorMemoryMb.put(step, app.path("memoryperexecutor").asInt());
                applicationIds.put(step, app.path("id").asText());
            }
        }
        // The four steps and, after the gates, monitoring's reference profile of the new version (DriftMain).
        assertThat(apps).containsExactlyInAnyOrderElementsOf(java.util.stream.Stream.concat(STEPS.stream(), java.util.stream.Stream.of(
                "reference profile")).map(s -> "trellis " + s + "=FINISHED").toList());
        await("the executors of the finished applications to exit", () -> cluster.liveExecutorProcesses() == 0);

        // Executor resources per job from the spec: the Master granted each application the spec's executor memory (not the
        // worker's 768m), and each application ran with the spec's cores (its own configuration, in its report).
        assertThat(executorMemoryMb).containsExactlyInAnyOrderEntriesOf(Map.of(
                "snapshot + validate", 640, "build features", 640, "train", 896, "evaluate", 640, "reference profile", 640));
        Map<String, String> executorCores = new HashMap<>();
        for (JsonNode report : reportsOf(outcome.runKey())) {
            executorCores.put(report.path("job").asText(), report.path("resources").path("spark.executor.cores").asText());
        }
        assertThat(executorCores).containsExactlyInAnyOrderEntriesOf(Map.of("validate", "1", "features", "1", "train", "2", "evaluate", "1",
                "drift", "1"));

        // Usage in cluster mode: one row per step's attempt, from the application's own listener, priced, under the run.
        // (The run's fifth Spark step, the drift reference profile, is an application on the cluster too.)
        List<ResourceUsageRecord> all = runtime.metadata().resourceUsage().attempts(outcome.runKey());
        assertThat(all).extracting(ResourceUsageRecord::step).containsExactlyInAnyOrderElementsOf(
                java.util.stream.Stream.concat(STEPS.stream(), java.util.stream.Stream.of("reference profile")).toList());
        List<ResourceUsageRecord> usage = all.stream().filter(r -> STEPS.contains(r.step())).toList();
        PriceSheet prices = runtime.config().prices();
        for (ResourceUsageRecord row : usage) {
            assertThat(row.outcome()).as(row.step()).isEqualTo(UsageOutcome.SUCCEEDED);
            assertThat(row.attempt()).as(row.step()).isEqualTo(1);
            assertThat(row.modelName()).isEqualTo(MODEL);
            assertThat(row.environment()).isEqualTo(UsageLabels.TRAINING_ENVIRONMENT);
            assertThat(row.sparkJobGroup()).as("the application id of %s", row.step()).isEqualTo(applicationIds.get(row.step()));
            assertThat(row.tasks()).as("tasks of %s", row.step()).isPositive();
            assertThat(row.executorRunMs()).as("executor run time of %s", row.step()).isPositive();
            assertThat(row.recordsRead()).as("rows read by %s", row.step()).isPositive();
            assertThat(row.wallMs()).as("wall time of %s", row.step()).isPositive();
            assertThat(prices.cost(row)).as("cost of %s", row.step()).isPositive();
        }
        ResourceUsageRecord reference = all.stream().filter(r -> r.step().equals("reference profile")).findFirst().orElseThrow();
        assertThat(reference.sparkJobGroup()).as("the reference profile's application on the Master").isEqualTo(applicationIds.get("reference profile"));
        assertThat(reference.outcome()).isEqualTo(UsageOutcome.SUCCEEDED);
        assertThat(reference.recordsRead()).as("the profile reads the training snapshot").isGreaterThanOrEqualTo(2_000);
        assertThat(runtime.monitoring().reference(MODEL, 1)).as("the profile computed on the cluster is stored with v1")
                .hasValueSatisfying(r -> assertThat(r.profileJson()).contains("\"bins\""));
        assertThat(usage.stream().filter(r -> r.step().equals("snapshot + validate")).findFirst().orElseThrow().recordsRead())
                .as("validation reads every source row at least once").isGreaterThanOrEqualTo(2_000);
        UsageTotals run = runtime.metadata().resourceUsage().run(outcome.runKey());
        assertThat(run.attempts()).isEqualTo(5);
        assertThat(prices.cost(run)).as("the run's cost in the rollup").isGreaterThan(usage.stream().mapToDouble(prices::cost).sum() * 0.999);
        assertThat(runtime.metadata().resourceUsage().rollup(UsageTotals.By.MODEL, MODEL, 10))
                .singleElement().satisfies(m -> assertThat(m.attempts()).isEqualTo(5));
    }

    /** The JSON reports the Spark step attempts of {@code runKey} left in the work dir. */
    private List<JsonNode> reportsOf(String runKey) throws java.io.IOException {
        Path attempts = runtime.config().sparkSubmit().orElseThrow().workDir().resolve("attempts");
        String prefix = runKey.replaceAll("[^A-Za-z0-9._-]", "_") + "_";
        List<JsonNode> reports = new ArrayList<>();
        try (var dirs = java.nio.file.Files.list(attempts)) {
            for (Path d : dirs.filter(d -> d.getFileName().toString().startsWith(prefix)).toList()) {
                Path report = d.resolve(SparkSubmitLauncher.REPORT_FILE);
                if (java.nio.file.Files.exists(report)) {
                    reports.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile()));
                }
            }
        }
        return reports;
    }

    @Test
    @Order(2)
    void cancellingTheRetrainKillsItsRunningApplicationAndCommitsNothing() throws Exception {
        String features = SparkActivitiesImpl.featureTable(runtime.lake(), MODEL);
        List<String> before = DeltaTables.userMetadata(TestingSpark.session(), features);
        long versionBefore = DeltaTables.latestVersion(TestingSpark.session(), features);

        RetrainLauncher launcher = new RetrainLauncher(runtime.client(), Clock.systemUTC());
        String runKey = launcher.newRunKey(MODEL);
        holdFeaturesOf = runKey;
        WorkflowStub stub = launcher.start(new RetrainRequest(MODEL, "alice", "cancelled on the cluster"), runKey);
        String featureApp = "trellis build features " + runKey;
        await("the feature application of " + runKey + " registered on the cluster", () -> {
            for (JsonNode app : cluster.masterState().path("activeapps")) {
                if (app.path("name").asText().startsWith(featureApp)) {
                    return true;
                }
            }
            return false;
        });

        stub.cancel();

        assertThatThrownBy(() -> stub.getResult(RetrainResult.class))
                .isInstanceOf(WorkflowFailedException.class).hasCauseInstanceOf(CanceledFailure.class);
        // The blocker is still active (it holds the cores until stopped below): only the run's own applications count.
        await("no application of the cancelled run left on the cluster", () -> {
            for (JsonNode app : cluster.masterState().path("activeapps")) {
                if (app.path("name").asText().contains(runKey)) {
                    return false;
                }
            }
            return true;
        });
        String state = null;
        for (JsonNode app : cluster.masterState().path("completedapps")) {
            if (app.path("name").asText().startsWith(featureApp)) {
                state = app.path("state").asText();
            }
        }
        assertThat(state).as("the feature application, ended by the cancellation").isIn("KILLED", "FINISHED");
        assertThat(attemptsOf(runKey)).as("attempt folders of the cancelled run: validation reported, the killed feature job did not")
                .containsExactlyInAnyOrder(true, false);
        cluster.stopBlocker();
        await("the worker's executor processes gone", () -> cluster.liveExecutorProcesses() == 0);
        // Nothing half-written: the cancelled run made no Delta commit, the table reads as before.
        assertThat(DeltaTables.latestVersion(TestingSpark.session(), features)).isEqualTo(versionBefore);
        assertThat(DeltaTables.userMetadata(TestingSpark.session(), features)).containsExactlyElementsOf(before).doesNotContain(runKey);
    }

    @Test
    @Order(3)
    void aRunOverItsHardLimitHasItsRunningApplicationStoppedAndFailsWithWhy() throws Exception {
        // A second model on the same source rows whose run may cost next to nothing: the first priced tasks of its first
        // application (validation; 100 per core-hour, so one task-millisecond is already over) take it over the limit.
        String model = "churn-limited";
        String yaml = SampleModels.customerChurnYaml().replace("name: " + MODEL, "name: " + model) + RESOURCES
                + "budget:\n  hardLimitPerRun: 0.000001\n";
        var spec = ModelSpecLoader.parse(yaml);
        assertThat(spec.budget().hardLimitPerRun()).isEqualTo(0.000001);
        runtime.registry().applyModelSpec(model, yaml, ModelSpecLoader.sha256(yaml), spec.environments(), "alice");
        String features = SparkActivitiesImpl.featureTable(runtime.lake(), model);

        RetrainRunner.Outcome outcome = new RetrainRunner(runtime, quiet()).run(new RetrainRequest(model, "alice", "over its hard limit"));
        String runKey = outcome.runKey();

        // The workflow records why: the run FAILED at validation with the limit's message, not retried, and audited.
        assertThat(outcome.status()).as(outcome.message()).isEqualTo(RunStatus.FAILED);
        assertThat(outcome.failureType()).isEqualTo(io.trellis.spec.ErrorCode.BUDGET_EXCEEDED.name());
        assertThat(outcome.message()).contains("snapshot + validate cancelled: run " + runKey + " reached an estimated cost of",
                "over the hard limit of 0.000001 per run (budget.hardLimitPerRun of churn-limited)",
                "its Spark application was stopped and killed while its jobs ran");
        var run = runtime.registry().run(runKey).orElseThrow();
        assertThat(run.failureMessage()).contains("over the hard limit of 0.000001 per run");
        assertThat(runtime.registry().auditTrail(io.trellis.metadata.AuditQuery.forRun(runKey)))
                .filteredOn(e -> e.action().equals("retrain.failed")).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("budget.hardLimitPerRun of churn-limited"));

        // The application was stopped on the cluster: the run's only application (validation) ended, none is left running.
        String validateApp = "trellis snapshot + validate " + runKey + " attempt 1";
        await("no application of " + runKey + " left on the cluster", () -> {
            for (JsonNode app : cluster.masterState().path("activeapps")) {
                if (app.path("name").asText().contains(runKey)) {
                    return false;
                }
            }
            return true;
        });
        Map<String, String> apps = new HashMap<>();
        for (JsonNode app : cluster.masterState().path("completedapps")) {
            if (app.path("name").asText().contains(runKey)) {
                apps.put(app.path("name").asText(), app.path("state").asText() + " " + app.path("id").asText());
            }
        }
        assertThat(apps).containsOnlyKeys(validateApp);
        assertThat(apps.get(validateApp)).matches("(KILLED|FINISHED) app-.*");
        String applicationId = apps.get(validateApp).split(" ")[1];
        await("the worker's executor processes gone", () -> cluster.liveExecutorProcesses() == 0);

        // The attempt's usage is recorded OVER_LIMIT (as in local mode), priced over the limit, under the application's id.
        List<ResourceUsageRecord> usage = runtime.metadata().resourceUsage().attempts(runKey);
        assertThat(usage).singleElement().satisfies(row -> {
            assertThat(row.step()).isEqualTo("snapshot + validate");
            assertThat(row.outcome()).isEqualTo(UsageOutcome.OVER_LIMIT);
            assertThat(row.attempt()).isEqualTo(1);
            assertThat(row.modelName()).isEqualTo(model);
            assertThat(row.sparkJobGroup()).isEqualTo(applicationId);
            assertThat(runtime.config().prices().cost(row)).isGreaterThan(0.000001);
        });

        // Nothing half-written: the run never reached its feature step; its feature table does not exist.
        assertThat(io.delta.tables.DeltaTable.isDeltaTable(TestingSpark.session(), features)).isFalse();
    }

    @Test
    @Order(4)
    void batchScoringRunsAsAnApplicationOnTheClusterAndARetriedAttemptAppendsNothing() throws Exception {
        // The first test's v1 goes live in dev by an operator's override: scoring needs a live version, not a promotion.
        runtime.registry().markLive(MODEL, 1, "dev", "alice", "scored on the cluster");
        String predictions = ScoringActivitiesImpl.predictionsTable(runtime.lake(), MODEL, "dev");
        String source = runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE);
        String workflowId = ScoringWorkflow.workflowId(MODEL, "dev", "on-the-cluster");
        ScoringWorkflow wf = runtime.client().newWorkflowStub(ScoringWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(workflowId).build());

        ScoringRunResult result = wf.run(new ScoringRequest(MODEL, "dev", "scheduler"));

        // One predictions commit, under the run key, every row scored by v1; the result describes it as local mode does.
        String runKey = result.runKey();
        BatchScoreResult scoring = result.scoring();
        assertThat(result.version()).isEqualTo(1);
        assertThat(scoring.predictions().tablePath()).isEqualTo(predictions);
        assertThat(scoring.predictions().version()).isZero();
        assertThat(scoring.sourceTable()).isEqualTo(source);
        assertThat(scoring.sourceVersion()).isEqualTo(DeltaTables.latestVersion(TestingSpark.session(), source));
        assertThat(scoring.windowFrom()).isNotNull();
        assertThat(scoring.windowTo()).isNotNull();
        assertThat(scoring.rows()).isPositive().isLessThanOrEqualTo(2_000).isEqualTo(scoring.predictions().rowCount());
        assertThat(DeltaTables.latestVersion(TestingSpark.session(), predictions)).isZero();
        assertThat(DeltaTables.userMetadata(TestingSpark.session(), predictions)).containsExactly(runKey);
        List<org.apache.spark.sql.Row> tags = TestingSpark.session().read().format("delta").load(predictions)
                .groupBy("model_version", "run_key").count().collectAsList();
        assertThat(tags).singleElement().satisfies(r -> {
            assertThat(r.getInt(0)).isEqualTo(1);
            assertThat(r.getString(1)).isEqualTo(runKey);
            assertThat(r.getLong(2)).isEqualTo(scoring.rows());
        });
        assertThat(runtime.registry().auditTrail(new io.trellis.metadata.AuditQuery(null, runKey, 10))).singleElement()
                .satisfies(a -> assertThat(a.action()).isEqualTo("scoring.completed"));

        // The Master ran it as an application of this workflow, to the end.
        String appName = "trellis batch scoring " + workflowId + " attempt 1";
        Map<String, String> apps = new HashMap<>();
        for (JsonNode app : cluster.masterState().path("completedapps")) {
            if (app.path("name").asText().contains(workflowId)) {
                apps.put(app.path("name").asText(), app.path("state").asText() + " " + app.path("id").asText());
            }
        }
        assertThat(apps).containsOnlyKeys(appName);
        assertThat(apps.get(appName)).matches("FINISHED app-.*");
        String applicationId = apps.get(appName).split(" ")[1];

        // Its usage: one row, accounted to the model and the environment scored, under the application's id.
        assertThat(runtime.metadata().resourceUsage().attempts(workflowId)).singleElement().satisfies(row -> {
            assertThat(row.step()).isEqualTo("batch scoring");
            assertThat(row.outcome()).isEqualTo(UsageOutcome.SUCCEEDED);
            assertThat(row.attempt()).isEqualTo(1);
            assertThat(row.modelName()).isEqualTo(MODEL);
            assertThat(row.environment()).isEqualTo("dev");
            assertThat(row.sparkJobGroup()).isEqualTo(applicationId);
            assertThat(row.tasks()).isPositive();
            assertThat(row.recordsRead()).isPositive();
            assertThat(runtime.config().prices().cost(row)).isPositive();
        });

        // A retried attempt (same run key, a new application on the cluster) finds the run's commit and appends nothing.
        ScoringTarget target = new PromotionActivitiesImpl(runtime.registry(), runtime.artifactStore()).scoringTarget(MODEL, "dev");
        TestActivityEnvironment retry = TestActivityEnvironment.newInstance();
        try {
            retry.registerActivitiesImplementations(new ClusterScoringActivitiesImpl(
                    new SparkSubmitLauncher(runtime.config().sparkSubmit().orElseThrow()), runtime.lake(), runtime.artifactStore()));
            ScoringActivities activities = retry.newActivityStub(ScoringActivities.class, ActivityOptions.newBuilder()
                    .setStartToCloseTimeout(CLUSTER_TIMEOUT).setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
                    .build());
            BatchScoreResult again = activities.batchScore(new BatchScoreRequest(runKey, target.spec(), "dev", target.live()));
            assertThat(again.predictions()).isEqualTo(scoring.predictions());
            assertThat(again.rows()).isEqualTo(scoring.rows());
            assertThat(again.sourceVersion()).isEqualTo(scoring.sourceVersion());
            assertThat(again.windowTo()).isEqualTo(scoring.windowTo());

            // The staging shadow run is an application on the cluster too: v1 against itself agrees everywhere.
            ShadowResult shadow = activities.shadowScore(new ShadowRequest("promote/" + MODEL + "/on-the-cluster", target.spec(),
                    "staging", 1, target.live().artifact(), target.live()));
            String staging = ScoringActivitiesImpl.predictionsTable(runtime.lake(), MODEL, "staging");
            assertThat(shadow.predictions().tablePath()).isEqualTo(staging);
            assertThat(shadow.rows()).isEqualTo(scoring.rows());
            assertThat(shadow.candidateVersion()).isEqualTo(1);
            assertThat(shadow.productionVersion()).isEqualTo(1);
            assertThat(shadow.agreementRate()).isEqualTo(1.0);
            assertThat(shadow.scorePsi()).isLessThan(1e-6);
            assertThat(shadow.sourceTable()).isEqualTo(source);
            assertThat(shadow.sourceVersion()).isEqualTo(scoring.sourceVersion());
            assertThat(DeltaTables.userMetadata(TestingSpark.session(), staging))
                    .containsExactly("promote/" + MODEL + "/on-the-cluster/staging");
            assertThat(TestingSpark.session().read().format("delta").load(staging).count()).as("both models' scores")
                    .isEqualTo(2 * shadow.rows());
        } finally {
            retry.close();
        }
        assertThat(DeltaTables.latestVersion(TestingSpark.session(), predictions)).isZero();
        assertThat(DeltaTables.userMetadata(TestingSpark.session(), predictions)).containsExactly(runKey);
        assertThat(TestingSpark.session().read().format("delta").load(predictions).count()).isEqualTo(scoring.rows());
        await("the worker's executor processes gone", () -> cluster.liveExecutorProcesses() == 0);
    }

    /**
     * Passes every step through; before the feature step of {@link #holdFeaturesOf} it takes all the cluster's cores, so
     * that step's application starts but its jobs cannot finish: the cancellation then surely lands mid-job (the SDK
     * delivers it on a heartbeat, up to 24 s later, which a tiny job on a free cluster could outrun).
     */
    private final class HoldingFeatures implements SparkActivities {
        private final SparkActivities delegate;

        HoldingFeatures(SparkActivities delegate) {
            this.delegate = delegate;
        }

        @Override
        public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
            return delegate.snapshotAndValidate(request);
        }

        @Override
        public FeatureResult buildFeatures(FeatureRequest request) {
            if (request.runKey().equals(holdFeaturesOf)) {
                ExecutorService starter = Executors.newSingleThreadExecutor();
                try {
                    Future<?> blocker = starter.submit(() -> {
                        cluster.startBlocker(2);
                        return null;
                    });
                    while (!blocker.isDone()) {
                        Activity.getExecutionContext().heartbeat(null);
                        Thread.sleep(1000);
                    }
                    blocker.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                } finally {
                    starter.shutdownNow();
                }
            }
            return delegate.buildFeatures(request);
        }

        @Override
        public TrainResult train(TrainRequest request) {
            return delegate.train(request);
        }

        @Override
        public EvaluationResult evaluate(EvaluateRequest request) {
            return delegate.evaluate(request);
        }
    }

    /** For each Spark step attempt of {@code runKey} in the work dir: whether its job wrote a report. */
    private List<Boolean> attemptsOf(String runKey) throws java.io.IOException {
        Path attempts = runtime.config().sparkSubmit().orElseThrow().workDir().resolve("attempts");
        String prefix = runKey.replaceAll("[^A-Za-z0-9._-]", "_") + "_";
        try (var dirs = java.nio.file.Files.list(attempts)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith(prefix))
                    .map(d -> java.nio.file.Files.exists(d.resolve("report.json"))).toList();
        }
    }

    @Test
    @Order(5)
    void monitoringAssessesTheWindowAsAnApplicationOnTheCluster() throws Exception {
        // v1 from the first test, live in dev (the batch scoring test before this one put it there and scored the window).
        if (runtime.registry().liveChampion(MODEL, "dev").isEmpty()) {
            runtime.registry().markLive(MODEL, 1, "dev", "alice", "monitored on the cluster");
        }
        String workflowId = io.trellis.workflows.monitor.MonitorWorkflow.workflowId(MODEL, "dev", "on-the-cluster");
        io.trellis.workflows.monitor.MonitorResult result = runtime.client().newWorkflowStub(io.trellis.workflows.monitor.MonitorWorkflow.class,
                        io.temporal.client.WorkflowOptions.newBuilder().setTaskQueue(io.trellis.workflows.TaskQueues.ORCHESTRATION)
                                .setWorkflowId(workflowId).build())
                .run(new io.trellis.workflows.monitor.MonitorRequest(MODEL, "dev", "ops"));

        // The reference profile stored at training (computed on the cluster) against the window the job counted.
        assertThat(result.version()).isEqualTo(1);
        assertThat(result.drift()).isNotNull();
        assertThat(result.drift().referenceRows()).isEqualTo(2_000);
        assertThat(result.drift().currentRows()).isPositive().isLessThanOrEqualTo(2_000);
        assertThat(result.drift().sourceTable()).isEqualTo(runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE));
        assertThat(result.drift().features()).hasSize(SampleModels.customerChurn().features().all().size());
        // The scores of the batch scoring run the registry recorded (its run key names the scoring workflow).
        assertThat(result.drift().scoresFrom()).startsWith("predictions table ")
                .contains(io.trellis.workflows.promotion.ScoringWorkflow.workflowId(MODEL, "dev", "on-the-cluster"));
        assertThat(result.decision()).isNotNull();

        // One application on the Master for the assessment, to the end; its usage recorded under the model.
        Map<String, String> apps = new HashMap<>();
        for (JsonNode app : cluster.masterState().path("completedapps")) {
            if (app.path("name").asText().contains(workflowId)) {
                apps.put(app.path("name").asText(), app.path("state").asText() + " " + app.path("id").asText());
            }
        }
        String appName = "trellis drift assessment " + workflowId + " attempt 1";
        assertThat(apps).containsOnlyKeys(appName);
        assertThat(apps.get(appName)).matches("FINISHED app-.*");
        assertThat(runtime.metadata().resourceUsage().attempts(workflowId)).singleElement().satisfies(row -> {
            assertThat(row.step()).isEqualTo("drift assessment");
            assertThat(row.outcome()).isEqualTo(UsageOutcome.SUCCEEDED);
            assertThat(row.modelName()).isEqualTo(MODEL);
            assertThat(row.sparkJobGroup()).isEqualTo(apps.get(appName).split(" ")[1]);
            assertThat(row.recordsRead()).as("the window and the stored scores").isPositive();
        });
        // The application is FINISHED at the Master a moment before its executor process has exited.
        await("the assessment's executor to exit", () -> cluster.liveExecutorProcesses() == 0);
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
