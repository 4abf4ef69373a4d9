package io.trellis.activities.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.trellis.activities.artifacts.DirectoryChecksum;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.Lake;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.SparkStepProgress;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Optional;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Spark activities through Temporal's activity test environment (real serialization of requests, results,
 * heartbeats and failures) on the shared local Spark session, with real Delta tables in a temporary lake and a
 * local artifact store. The chain snapshot → features → train runs once for the class; each test checks one
 * link or one way a step can end.
 */
class SparkActivitiesIT {
    private static final String RUN_KEY = "retrain/customer-churn/it-chain";

    /*
     * The SDK sends heartbeats at most every 0.8 × the heartbeat timeout and only learns of a cancellation when it
     * sends one, so a short timeout keeps the cancellation test quick. The step runner heartbeats every 2 s. The test
     * environment runs each call once: it has no retries whatever the policy says.
     */
    private static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(5))
            .setHeartbeatTimeout(Duration.ofSeconds(5))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build();

    private static SparkSession spark;
    private static DatasetVersion churn;
    private static Lake lake;
    private static LocalArtifactStore artifacts;
    private static Path scratch;
    private static ModelSpec spec;
    private static TestActivityEnvironment env;
    private static SparkActivities activities;
    private static DatabaseConfig lineageDb;
    private static MetadataStore lineageStore;
    private static OpenLineageEmitter openLineage;

    private static SnapshotResult snapshot;
    private static FeatureResult features;
    private static TrainResult trained;

    @BeforeAll
    static void runTheChainUpToATrainedCandidate() {
        spark = TestingSpark.session();
        churn = TestingSampleData.churnTable();
        lake = new Lake(TestingSpark.newLake().toString());
        artifacts = new LocalArtifactStore(TestingSpark.newLake("trellis-artifacts"));
        scratch = TestingSpark.newLake("trellis-scratch");
        // The shared sample table lives in a lake of its own (read-only); the spec names it by absolute path.
        spec = sampleSpec("");
        // Every step emits its OpenLineage events into a real store (no HTTP endpoint).
        lineageDb = TestingPostgreSqlServer.createDatabase(SparkActivitiesIT.class);
        lineageStore = MetadataStore.open(lineageDb);
        openLineage = OpenLineageEmitter.storing(lineageStore.openLineage(), "trellis", "it", Optional.empty(), Optional.empty());

        env = newEnvironment();
        activities = env.newActivityStub(SparkActivities.class, OPTIONS);
        snapshot = activities.snapshotAndValidate(new SnapshotRequest(RUN_KEY, spec));
        features = activities.buildFeatures(new FeatureRequest(RUN_KEY, spec, snapshot.source()));
        trained = activities.train(new TrainRequest(RUN_KEY, spec, features.table()));
    }

    @AfterAll
    static void closeEnvironment() {
        if (env != null) {
            env.close();
        }
        if (lineageStore != null) {
            lineageStore.close();
        }
    }

    @Test
    void snapshotPinsTheSourceVersionAndPassesTheSampleData() {
        assertThat(snapshot.source().tablePath()).isEqualTo(churn.tablePath());
        assertThat(snapshot.source().version()).isEqualTo(churn.version());
        assertThat(snapshot.source().rowCount()).isEqualTo(TestingSampleData.ROWS);
        assertThat(snapshot.failures()).isEmpty();
        assertThat(snapshot.passed()).isTrue();
        assertThat(snapshot.rules()).extracting(RuleResult::rule).contains("min_rows");
    }

    @Test
    void buildingFeaturesAgainWithTheSameRunKeyReturnsTheSameVersionAndCommitsOnce() {
        assertThat(features.table().tablePath()).isEqualTo(SparkActivitiesImpl.featureTable(lake, spec.name()));
        assertThat(features.trainRows() + features.holdoutRows()).isEqualTo(TestingSampleData.ROWS);
        assertThat(features.table().rowCount()).isEqualTo(TestingSampleData.ROWS);
        assertThat(features.holdoutRows()).isBetween(600L, 1000L);

        FeatureResult again = activities.buildFeatures(new FeatureRequest(RUN_KEY, spec, snapshot.source()));

        assertThat(again).isEqualTo(features);
        assertThat(DeltaTables.userMetadata(spark, features.table().tablePath())).filteredOn(RUN_KEY::equals).hasSize(1);
        assertThat(DeltaTables.latestVersion(spark, features.table().tablePath())).isEqualTo(features.table().version());
    }

    @Test
    void trainingStoresTheFittedPipelineWithItsChecksumAndTheSpecsHyperparameters() {
        ArtifactRef artifact = trained.artifact();
        Path stored = Path.of(URI.create(artifact.uri()));
        assertThat(artifact.sha256()).matches("[0-9a-f]{64}");
        assertThat(stored).isDirectory().startsWith(artifacts.root());
        assertThat(stored.resolve("metadata")).isDirectory();
        assertThat(DirectoryChecksum.of(stored)).isEqualTo(new DirectoryChecksum.Result(artifact.sha256(), artifact.bytes()));
        assertThat(stored).isEqualTo(artifacts.root().resolve(SparkActivitiesImpl.artifactKey(spec.name(), RUN_KEY)));

        assertThat(trained.algorithm()).isEqualTo("logistic_regression");
        assertThat(spec.algorithm().hyperparameters()).isNotEmpty();
        spec.algorithm().hyperparameters().forEach((name, value) ->
                assertThat(Double.parseDouble(trained.params().get(name))).as(name).isEqualTo(value));
        assertThat(trained.trainRows()).isEqualTo(features.trainRows());
        // The model is saved to scratch first and copied into the store; the scratch copy is gone.
        assertThat(scratch.resolve(SparkActivitiesImpl.artifactKey(spec.name(), RUN_KEY))).satisfiesAnyOf(
                p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }

    @Test
    void aChampionWithTheCandidatesArtifactScoresExactlyLikeTheCandidate() {
        EvaluationResult result = activities.evaluate(new EvaluateRequest(RUN_KEY, spec, features.table(), trained.artifact(),
                new ChampionRef(1, "dev", trained.artifact())));

        assertThat(result.championNote()).isNull();
        assertThat(result.championVersion()).isEqualTo(1);
        assertThat(result.holdoutRows()).isEqualTo(features.holdoutRows());
        assertThat(result.candidate().get("auc")).isGreaterThan(0.7);
        assertThat(result.champion()).containsOnlyKeys(result.candidate().keySet());
        // Same model, same holdout rows: the same metrics, up to the order Spark sums them in.
        result.candidate().forEach((metric, value) ->
                assertThat(result.champion().get(metric)).as(metric).isCloseTo(value, within(1e-9)));
    }

    @Test
    void aTamperedChampionIsNotComparedAndTheCandidateIsStillEvaluated() throws IOException {
        ArtifactRef copy = artifacts.put("customer-churn/runs/it-tampered-champion", artifacts.fetch(trained.artifact()));
        Path part;
        try (Stream<Path> files = Files.walk(Path.of(URI.create(copy.uri())).resolve("metadata"))) {
            part = files.filter(p -> p.getFileName().toString().startsWith("part-")).findFirst().orElseThrow();
        }
        Files.writeString(part, "\n", StandardOpenOption.APPEND);

        EvaluationResult result = activities.evaluate(new EvaluateRequest(RUN_KEY, spec, features.table(), trained.artifact(),
                new ChampionRef(3, "production", copy)));

        assertThat(result.champion()).isNull();
        assertThat(result.championVersion()).isNull();
        assertThat(result.championNote()).startsWith("champion v3 not compared").contains("checksum");
        assertThat(result.candidate().get("auc")).isGreaterThan(0.7);
        assertThat(result.holdoutRows()).isEqualTo(features.holdoutRows());
    }

    @Test
    void aRunningStepHeartbeatsItsSparkProgress() {
        // 20 boosting rounds of several Spark jobs each: longer than the runner's 2 s heartbeat interval.
        ModelSpec slow = gbtSpec(20, 3);
        List<SparkStepProgress> beats = new CopyOnWriteArrayList<>();
        TestActivityEnvironment watched = newEnvironment();
        try {
            watched.setActivityHeartbeatListener(SparkStepProgress.class, beats::add);
            TrainResult result = watched.newActivityStub(SparkActivities.class, OPTIONS)
                    .train(new TrainRequest("retrain/customer-churn/it-heartbeat", slow, features.table()));

            assertThat(result.algorithm()).isEqualTo("gradient_boosted_trees");
            assertThat(result.trainMillis()).as("the step must outlast one heartbeat interval for this test to mean anything")
                    .isGreaterThan(2000);
        } finally {
            watched.close();
        }
        assertThat(beats).isNotEmpty().allSatisfy(beat -> {
            assertThat(beat.step()).isEqualTo("train");
            assertThat(beat.elapsedMillis()).isGreaterThanOrEqualTo(1900);
            assertThat(beat.tasksDone()).isBetween(0L, beat.tasksTotal());
            assertThat(beat.stagesDone()).isBetween(0, beat.stagesTotal());
            assertThat(beat.describe()).startsWith("train: Spark jobs ");
        });
        assertThat(beats).extracting(SparkStepProgress::elapsedMillis).isSorted();
    }

    @Test
    void cancellingARunningStepCancelsItsSparkJobs() throws Exception {
        // Far more boosting rounds than the test waits for: only a cancellation ends it in time.
        ModelSpec endless = gbtSpec(400, 5);
        JobGroupRecorder groups = new JobGroupRecorder();
        spark.sparkContext().addSparkListener(groups);
        List<SparkStepProgress> beats = new CopyOnWriteArrayList<>();
        TestActivityEnvironment cancellable = newEnvironment();
        try {
            cancellable.setActivityHeartbeatListener(SparkStepProgress.class, beats::add);
            SparkActivities stub = cancellable.newActivityStub(SparkActivities.class, OPTIONS);
            CompletableFuture<TrainResult> call = CompletableFuture.supplyAsync(() ->
                    stub.train(new TrainRequest("retrain/customer-churn/it-cancel", endless, features.table())));

            awaitUntil("a heartbeat from the running train step", Duration.ofSeconds(60),
                    () -> !beats.isEmpty() || call.isDone());
            assertThat(call).as("training must still be running when it is cancelled").isNotDone();
            awaitUntil("the job group of the train step's Spark jobs", Duration.ofSeconds(10), () -> groups.trainGroup() != null);
            String group = groups.trainGroup();
            long requested = System.nanoTime();
            cancellable.requestCancelActivity();

            assertThatThrownBy(() -> call.get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(CanceledFailure.class);
            // Seen at the next heartbeat the SDK sends (at most 0.8 × 5 s apart) plus the runner's 2 s tick.
            assertThat(Duration.ofNanos(System.nanoTime() - requested)).isLessThan(Duration.ofSeconds(20));

            JavaSparkStatusTracker tracker = JavaSparkContext.fromSparkContext(spark.sparkContext()).statusTracker();
            awaitUntil("no running Spark job in group " + group, Duration.ofSeconds(30),
                    () -> IntStream.of(tracker.getActiveJobIds())
                            .noneMatch(id -> IntStream.of(tracker.getJobIdsForGroup(group)).anyMatch(g -> g == id)));
            awaitUntil("no running Spark job at all", Duration.ofSeconds(30), () -> tracker.getActiveJobIds().length == 0);
            // The step's own thread stops too: it removes its scratch folder on the way out.
            Path attempts = scratch.resolve(SparkActivitiesImpl.artifactKey(endless.name(), "retrain/customer-churn/it-cancel"));
            awaitUntil("the cancelled step's thread to clean up " + attempts, Duration.ofSeconds(30),
                    () -> !Files.exists(attempts) || attempts.toFile().list().length == 0);
            // A job the step's thread might still submit after the cancellation (it may be between two jobs) is refused.
            spark.sparkContext().setJobGroup(group, "a job submitted after the cancellation", true);
            try {
                assertThatThrownBy(() -> spark.range(10).count()).hasMessageContaining(group);
            } finally {
                spark.sparkContext().clearJobGroup();
            }
        } finally {
            spark.sparkContext().removeSparkListener(groups);
            cancellable.close();
        }
        assertThat(beats).isNotEmpty().allSatisfy(beat -> assertThat(beat.step()).isEqualTo("train"));
        // The cancelled attempt's OpenLineage run ends with ABORT (after its START), never COMPLETE.
        List<String[]> aborted = events("customer-churn.SparkTrain", "ABORT");
        assertThat(aborted).hasSize(1);
        assertThat(eventTypesOfRun(aborted.get(0)[0])).containsExactly("START", "ABORT");
    }

    @Test
    void aFailingStepEmitsAFailEventWithTheErrorAfterItsStart() throws Exception {
        ModelSpec missing = withSourceTable(spec, "raw/no_table_for_lineage");
        assertThatThrownBy(() -> activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/it-fail", missing)))
                .isInstanceOf(ActivityFailure.class);

        List<String[]> failed = events("customer-churn.SparkSnapshotAndValidate", "FAIL").stream()
                .filter(e -> e[1].contains("no_table_for_lineage")).toList();
        assertThat(failed).hasSize(1);
        assertThat(eventTypesOfRun(failed.get(0)[0])).containsExactly("START", "FAIL");
        com.fasterxml.jackson.databind.JsonNode event = new com.fasterxml.jackson.databind.ObjectMapper().readTree(failed.get(0)[1]);
        assertThat(event.at("/run/facets/errorMessage/message").asText()).contains("no Delta table");
        assertThat(event.at("/run/facets/errorMessage/programmingLanguage").asText()).isEqualTo("Java");
        assertThat(event.at("/inputs/0/name").asText()).endsWith("raw/no_table_for_lineage");
        assertThat(event.path("outputs")).isEmpty();
        // and the steps that succeeded ended with COMPLETE naming what they wrote
        assertThat(events("customer-churn.SparkBuildFeatures", "COMPLETE")).anySatisfy(e -> {
            com.fasterxml.jackson.databind.JsonNode delta = new com.fasterxml.jackson.databind.ObjectMapper().readTree(e[1])
                    .at("/outputs/0/facets/" + OpenLineageEmitter.DELTA_FACET);
            assertThat(delta.path("tablePath").asText()).isEqualTo(features.table().tablePath());
            assertThat(delta.path("deltaVersion").asLong()).isEqualTo(features.table().version());
        });
    }

    /** The stored events of a job and type: {runId, event JSON}. */
    private static List<String[]> events(String job, String type) throws SQLException {
        try (Connection c = DriverManager.getConnection(lineageDb.jdbcUrl(), lineageDb.user(), lineageDb.password());
             PreparedStatement ps = c.prepareStatement("select run_id::text, event::text from openlineage_events"
                     + " where job_name = ? and event_type = ? order by id")) {
            ps.setString(1, job);
            ps.setString(2, type);
            List<String[]> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
            return out;
        }
    }

    private static List<String> eventTypesOfRun(String runId) throws SQLException {
        try (Connection c = DriverManager.getConnection(lineageDb.jdbcUrl(), lineageDb.user(), lineageDb.password());
             PreparedStatement ps = c.prepareStatement("select event_type from openlineage_events where run_id = ?::uuid order by id")) {
            ps.setString(1, runId);
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    @Test
    void aSpecWhoseSourceTableIsMissingFailsWithoutRetry() {
        ModelSpec missing = withSourceTable(spec, "raw/no_such_table");

        assertThatThrownBy(() -> activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/it-missing", missing)))
                .isInstanceOf(ActivityFailure.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, failure -> {
                    assertThat(failure.getType()).isEqualTo(ErrorCode.MISSING_TABLE.name());
                    assertThat(failure.isNonRetryable()).isTrue();
                    assertThat(failure.getOriginalMessage()).contains(lake.resolve("raw/no_such_table")).contains("no Delta table");
                });
    }

    @Test
    void aSpecNamingAColumnTheTableLacksIsASchemaMismatch() {
        ModelSpec wrongColumn = sampleSpec("    - tenure_months\n", "    - tenure_months\n    - tenure_years\n");

        assertThatThrownBy(() -> activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/it-schema", wrongColumn)))
                .isInstanceOf(ActivityFailure.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, failure -> {
                    assertThat(failure.getType()).isEqualTo(ErrorCode.SCHEMA_MISMATCH.name());
                    assertThat(failure.isNonRetryable()).isTrue();
                    assertThat(failure.getOriginalMessage()).contains("lacks column tenure_years");
                });
    }

    private static TestActivityEnvironment newEnvironment() {
        TestActivityEnvironment e = TestActivityEnvironment.newInstance();
        e.registerActivitiesImplementations(new SparkActivitiesImpl(spark, lake, artifacts, scratch, openLineage, UsageSink.NONE));
        return e;
    }

    /** The sample spec reading the shared sample table, with optional literal YAML edits (pairs: find, replace). */
    private static ModelSpec sampleSpec(String... edits) {
        String yaml = SampleModels.customerChurnYaml()
                .replace("table: " + SampleModels.CUSTOMER_CHURN_TABLE, "table: " + churn.tablePath());
        for (int i = 0; i + 1 < edits.length; i += 2) {
            assertThat(yaml).contains(edits[i]);
            yaml = yaml.replaceFirst(Pattern.quote(edits[i]), Matcher.quoteReplacement(edits[i + 1]));
        }
        return ModelSpecLoader.parse(yaml);
    }

    private static ModelSpec gbtSpec(int rounds, int depth) {
        String yaml = SampleModels.customerChurnYaml()
                .replace("table: " + SampleModels.CUSTOMER_CHURN_TABLE, "table: " + churn.tablePath())
                .replaceAll("(?s)algorithm:.*?\nsplit:", "algorithm:\n  type: gradient_boosted_trees\n  hyperparameters: {maxIter: "
                        + rounds + ", maxDepth: " + depth + "}\nsplit:");
        return ModelSpecLoader.parse(yaml);
    }

    private static ModelSpec withSourceTable(ModelSpec s, String table) {
        return new ModelSpec(s.name(), s.description(), new ModelSpec.Source(table, s.source().keyColumn()), s.label(),
                s.features(), s.algorithm(), s.split(), s.evaluation(), s.gates(), s.quality(), s.environments(),
                s.promotion(), s.scoring(), s.monitoring(), s.budget());
    }

    private static void awaitUntil(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /** Records the job group of every Spark job that starts, to find the group the train activity runs under. */
    private static final class JobGroupRecorder extends SparkListener {
        private final Set<String> groups = ConcurrentHashMap.newKeySet();

        @Override
        public void onJobStart(SparkListenerJobStart start) {
            String group = start.properties() == null ? null : start.properties().getProperty("spark.jobGroup.id");
            if (group != null) {
                groups.add(group);
            }
        }

        String trainGroup() {
            return groups.stream().filter(g -> g.contains("SparkTrain")).findFirst().orElse(null);
        }
    }
}
