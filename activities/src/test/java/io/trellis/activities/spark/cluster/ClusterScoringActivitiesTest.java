package io.trellis.activities.spark.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.activities.spark.UsageSink;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.JobMain;
import io.trellis.spark.Lake;
import io.trellis.spark.scoring.BatchScoringJob;
import io.trellis.spark.scoring.ScoringReport;
import io.trellis.spark.scoring.ShadowComparisonJob;
import io.trellis.spark.scoring.ShadowReport;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.promotion.BatchScoreRequest;
import io.trellis.workflows.promotion.BatchScoreResult;
import io.trellis.workflows.promotion.ScoringActivities;
import io.trellis.workflows.promotion.ShadowRequest;
import io.trellis.workflows.promotion.ShadowResult;
import java.io.IOException;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scoring activities in cluster mode at the activity, on Temporal's activity test environment, with a stand-in
 * {@code bin/spark-submit} that keeps its command line and writes the report the job would: what each activity asks the
 * job to do (tables, window, models, run key), how the report becomes local mode's result, how a job's user-facing error
 * fails the activity, and the attempt's usage row. The real jobs on a real cluster: {@code SparkClusterRetrainIT}.
 */
class ClusterScoringActivitiesTest {
    private static final String FAKE_SUBMIT = """
            #!/usr/bin/env bash
            report=""; prev=""
            for a in "$@"; do printf '%s\\n' "$a" >> "$FAKE_ARGS"; if [ "$prev" = "--report" ]; then report="$a"; fi; prev="$a"; done
            printf '%s' "$FAKE_REPORT" > "$report"
            if [ "$FAKE_EXIT" != "0" ]; then exit "$FAKE_EXIT"; fi
            """;
    private static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(2))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build();
    private static final ResourceUsage USAGE = new ResourceUsage(3, 12, 0, 9_000, 0, 4096, 600, 2048, 300, 0, 0, 0, 0, 0);

    @TempDir
    Path tmp;
    private TestActivityEnvironment env;
    private final List<ResourceUsageRecord> recorded = new CopyOnWriteArrayList<>();
    private final UsageSink sink = new UsageSink() {
        @Override
        public void record(ResourceUsageRecord usage) {
            recorded.add(usage);
        }

        @Override
        public double recordedCost(String workflowId) {
            return 0;
        }

        @Override
        public double cost(ResourceUsageRecord usage) {
            return 0;
        }
    };
    private Lake lake;
    private LocalArtifactStore artifacts;

    /** The activities, submitting through the stand-in, which writes {@code report} and exits with {@code exit}. */
    private ScoringActivities activities(Map<String, Object> report, int exit) throws IOException {
        Path sparkHome = Files.createDirectories(tmp.resolve("spark/bin")).getParent();
        Path submit = Files.writeString(sparkHome.resolve("bin/spark-submit"), FAKE_SUBMIT, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.writeString(tmp.resolve("jobs.jar"), "not read by the stand-in");
        SparkSubmitLauncher launcher = new SparkSubmitLauncher(new SparkSubmitSettings(sparkHome, "spark://127.0.0.1:7077",
                SparkSubmitSettings.DeployMode.CLIENT, jar, "512m", 1, Optional.empty(), "512m", "127.0.0.1", Map.of(),
                tmp.resolve("work")), Map.of("FAKE_REPORT", JobMain.toJson(report), "FAKE_ARGS", tmp.resolve("args").toString(),
                "FAKE_EXIT", Integer.toString(exit)));
        lake = new Lake(tmp.resolve("lake").toString());
        artifacts = new LocalArtifactStore(tmp.resolve("artifacts"));
        env = TestActivityEnvironment.newInstance();
        env.registerActivitiesImplementations(new ClusterScoringActivitiesImpl(launcher, lake, artifacts, sink));
        return env.newActivityStub(ScoringActivities.class, OPTIONS);
    }

    @AfterEach
    void close() {
        if (env != null) {
            env.close();
        }
    }

    private ArtifactRef model(String key) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("models").resolve(key));
        Files.writeString(dir.resolve("metadata"), "a saved PipelineModel stands here: " + key);
        return artifacts.put("models/customer-churn/" + key, dir);
    }

    private static Map<String, Object> ok(String job, Object result) {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("job", job);
        report.put("ok", true);
        report.put("result", result);
        report.put("applicationId", "app-20261202070000-0003");
        report.put("usage", USAGE);
        return report;
    }

    /** The stand-in's command line: {@code --name value} pairs after the application jar. */
    private Map<String, String> jobArguments() throws IOException {
        List<String> all = Files.readAllLines(tmp.resolve("args"));
        List<String> job = all.subList(all.indexOf(tmp.resolve("jobs.jar").toAbsolutePath().toString()) + 1, all.size());
        Map<String, String> pairs = new LinkedHashMap<>();
        for (int i = 0; i + 1 < job.size(); i += 2) {
            pairs.put(job.get(i), job.get(i + 1));
        }
        return pairs;
    }

    @Test
    @Timeout(60)
    void batchScoringSubmitsTheJobWithTheLiveModelAndMapsItsReportAsLocalModeDoes() throws Exception {
        ModelSpec spec = SampleModels.customerChurn();
        ScoringReport report = new ScoringReport("/lake/predictions/customer-churn/production", 4, 812, "2026-11-28", "2026-11-30", 7,
                5_300, true);
        ScoringActivities scoring = activities(ok("batch-score", report), 0);
        ArtifactRef live = model("v3");

        BatchScoreResult result = scoring.batchScore(new BatchScoreRequest("score/customer-churn/production/x#run-1", spec,
                "production", new ChampionRef(3, "production", live)));

        String source = lake.resolve(spec.source().table());
        assertThat(result).isEqualTo(new BatchScoreResult(new DatasetRef("/lake/predictions/customer-churn/production", 4, 812), 812,
                "2026-11-28", "2026-11-30", source, 7, 5_300));
        List<String> all = Files.readAllLines(tmp.resolve("args"));
        assertThat(all).contains("--class", BatchScoringJob.class.getName());
        Map<String, String> args = jobArguments();
        assertThat(args).containsEntry("--table", source)
                .containsEntry("--time-column", "event_date")
                .containsEntry("--window-days", "3")
                .containsEntry("--model", artifacts.fetch(live).toUri().toString())
                .containsEntry("--model-version", "3")
                .containsEntry("--predictions", ScoringActivitiesImpl.predictionsTable(lake, spec.name(), "production"))
                .containsEntry("--run-key", "score/customer-churn/production/x#run-1")
                // The job reads the latest source version itself, as local mode does when the step starts.
                .doesNotContainKey("--source-version");
        assertThat(args.get("--spec")).endsWith(JobMain.SPEC_JSON_SUFFIX);
        assertThat(args.get("--report")).endsWith(SparkSubmitLauncher.REPORT_FILE);

        // The attempt's usage, accounted to the model and the environment scored, under the application's id.
        assertThat(recorded).singleElement().satisfies(row -> {
            assertThat(row.step()).isEqualTo("batch scoring");
            assertThat(row.modelName()).isEqualTo(spec.name());
            assertThat(row.environment()).isEqualTo("production");
            assertThat(row.outcome()).isEqualTo(UsageOutcome.SUCCEEDED);
            assertThat(row.sparkJobGroup()).isEqualTo("app-20261202070000-0003");
            assertThat(row.tasks()).isEqualTo(12);
            assertThat(row.recordsRead()).isEqualTo(600);
        });
    }

    @Test
    @Timeout(60)
    void theShadowRunSubmitsBothModelsUnderTheRunKeyOfItsEnvironmentAndMapsTheComparison() throws Exception {
        ModelSpec spec = SampleModels.customerChurn();
        ShadowReport report = new ShadowReport("/lake/predictions/customer-churn/staging", 2, 600, 4, 3, 0.97, 0.012, 0.03, 0.41, 0.4,
                1_200, 1_100L, true);
        Map<String, Object> result = new LinkedHashMap<>(new com.fasterxml.jackson.databind.ObjectMapper().convertValue(report,
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() {}));
        result.put("sourceVersion", 9);
        ScoringActivities scoring = activities(ok("shadow-compare", result), 0);
        ArtifactRef candidate = model("v4");
        ArtifactRef production = model("v3");

        ShadowResult shadow = scoring.shadowScore(new ShadowRequest("promote/customer-churn/v4", spec, "staging", 4, candidate,
                new ChampionRef(3, "production", production)));

        String source = lake.resolve(spec.source().table());
        assertThat(shadow).isEqualTo(new ShadowResult(new DatasetRef("/lake/predictions/customer-churn/staging", 2, 600), 600, 4, 3,
                0.97, 0.012, 0.03, 1_200, 1_100L, source, 9L));
        assertThat(Files.readAllLines(tmp.resolve("args"))).contains("--class", ShadowComparisonJob.class.getName());
        assertThat(jobArguments()).containsEntry("--table", source)
                .containsEntry("--candidate", artifacts.fetch(candidate).toUri().toString())
                .containsEntry("--candidate-version", "4")
                .containsEntry("--champion", artifacts.fetch(production).toUri().toString())
                .containsEntry("--champion-version", "3")
                .containsEntry("--predictions", ScoringActivitiesImpl.predictionsTable(lake, spec.name(), "staging"))
                .containsEntry("--run-key", "promote/customer-churn/v4/staging")
                .doesNotContainKey("--source-version");
        assertThat(recorded).singleElement().satisfies(row -> {
            assertThat(row.step()).isEqualTo("shadow run");
            assertThat(row.environment()).isEqualTo("staging");
        });
    }

    @Test
    @Timeout(60)
    void aJobsUserFacingErrorFailsTheActivityWithItsCodeNotRetriedAndTheAttemptIsStillRecorded() throws Exception {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("job", "shadow-compare");
        report.put("ok", false);
        report.put("errorCode", ErrorCode.EMPTY_TABLE.name());
        report.put("message", "the scoring window of raw/customer_churn@9 has no rows, so there is nothing to compare; load data first");
        ScoringActivities scoring = activities(report, JobMain.EXIT_USER_ERROR);

        assertThatThrownBy(() -> scoring.shadowScore(new ShadowRequest("promote/customer-churn/v4", SampleModels.customerChurn(),
                "staging", 4, model("v4"), null)))
                .isInstanceOf(ActivityFailure.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.EMPTY_TABLE.name());
                    assertThat(f.isNonRetryable()).isEqualTo(!ErrorCode.EMPTY_TABLE.retryable());
                    assertThat(f.getOriginalMessage()).contains("has no rows, so there is nothing to compare");
                });
        // Without a production model there is no champion on the command line.
        assertThat(jobArguments()).doesNotContainKey("--champion").doesNotContainKey("--champion-version");
        assertThat(recorded).singleElement().satisfies(row -> assertThat(row.outcome()).isEqualTo(UsageOutcome.FAILED));
    }
}
