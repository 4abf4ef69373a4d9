package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.spark.Lake;
import io.trellis.spark.scoring.BatchScoringJob;
import io.trellis.spark.scoring.ScoringReport;
import io.trellis.spark.scoring.ShadowComparisonJob;
import io.trellis.spark.scoring.ShadowReport;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.promotion.BatchScoreRequest;
import io.trellis.workflows.promotion.BatchScoreResult;
import io.trellis.workflows.promotion.ScoringActivities;
import io.trellis.workflows.promotion.ShadowRequest;
import io.trellis.workflows.promotion.ShadowResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The scoring activities in cluster mode: batch scoring and the staging shadow run are spark-submitted to the cluster
 * ({@link BatchScoringJob#main}, {@link ShadowComparisonJob#main} from the shaded {@code spark-jobs} jar) through the
 * same {@link SparkSubmitLauncher} and {@link ClusterSteps} as the retrain's steps, instead of running on the worker's
 * own session (local mode, {@link ScoringActivitiesImpl}). Same tables, same results, same idempotency: the job appends
 * one Delta commit per run key, and a retried attempt (same run key) finds that commit and returns it without writing.
 * Each attempt's usage is recorded under the model and the environment scored, as in local mode; the job gets the
 * spec's default {@code resources} (per-step overrides name retrain steps only).
 *
 * <p>The job reads the source table's latest version itself (no {@code --source-version}), as local mode does when the
 * step starts. The models reach the job as the local paths {@link ArtifactStore#fetch} returns, as in the retrain's
 * evaluate step: that is right for a cluster whose driver and executors share this worker's file system (a standalone
 * cluster on this host, or a shared mount). With the artifact store on S3, {@code fetch} downloads to the worker's
 * local cache, which a remote cluster cannot read: such a cluster needs the artifacts at a path it can read (not done
 * here). Not here: OpenLineage events (local mode emits them; cluster mode does not for any step).
 */
public final class ClusterScoringActivitiesImpl implements ScoringActivities {
    /** Scoring jobs take the spec's default resources: {@code resources.steps} names only retrain steps. */
    private static final String RESOURCES_STEP = "score";
    private final Lake lake;
    private final ArtifactStore artifacts;
    private final ClusterSteps steps;

    public ClusterScoringActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts) {
        this(launcher, lake, artifacts, UsageSink.NONE);
    }

    /** With accounting: each attempt's application usage (from its report) goes to {@code usageSink}, as in local mode. */
    public ClusterScoringActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts, UsageSink usageSink) {
        this.lake = lake;
        this.artifacts = artifacts;
        this.steps = new ClusterSteps(launcher, usageSink);
    }

    @Override
    public BatchScoreResult batchScore(BatchScoreRequest r) {
        Path dir = steps.attemptDir();
        String source = lake.resolve(r.spec().source().table());
        List<String> args = sourceArgs(dir, r.spec(), source);
        args.addAll(List.of("--model", artifacts.fetch(r.live().artifact()).toUri().toString(),
                "--model-version", Integer.toString(r.live().version()),
                "--predictions", ScoringActivitiesImpl.predictionsTable(lake, r.spec().name(), r.environment()),
                "--run-key", r.runKey()));
        JsonNode result = steps.submit("batch scoring", RESOURCES_STEP, r.spec(), new UsageLabels(r.spec().name(), r.environment()),
                dir, BatchScoringJob.class, args);
        return batchScoreResult(source, ClusterSteps.read(result, ScoringReport.class));
    }

    @Override
    public ShadowResult shadowScore(ShadowRequest r) {
        Path dir = steps.attemptDir();
        String source = lake.resolve(r.spec().source().table());
        List<String> args = sourceArgs(dir, r.spec(), source);
        args.addAll(List.of("--candidate", artifacts.fetch(r.candidate()).toUri().toString(),
                "--candidate-version", Integer.toString(r.candidateVersion())));
        if (r.production() != null) {
            args.addAll(List.of("--champion", artifacts.fetch(r.production().artifact()).toUri().toString(),
                    "--champion-version", Integer.toString(r.production().version())));
        }
        // As local mode: one predictions commit per promotion and environment.
        args.addAll(List.of("--predictions", ScoringActivitiesImpl.predictionsTable(lake, r.spec().name(), r.environment()),
                "--run-key", r.runKey() + "/" + r.environment()));
        JsonNode result = steps.submit("shadow run", RESOURCES_STEP, r.spec(), new UsageLabels(r.spec().name(), r.environment()),
                dir, ShadowComparisonJob.class, args);
        return shadowResult(source, ClusterSteps.read(result, ShadowReport.class), result.path("sourceVersion").asLong());
    }

    /** What both scoring jobs start with: the spec (written to {@code dir}), the source table and the spec's window. */
    private static List<String> sourceArgs(Path dir, ModelSpec spec, String source) {
        List<String> args = new ArrayList<>(List.of("--spec", ClusterSteps.spec(dir, spec), "--table", source));
        window(spec, args);
        return args;
    }

    /** The scoring window of the spec on the job's command line: none scores the whole table. */
    static void window(ModelSpec spec, List<String> args) {
        if (spec.scoring() != null && spec.scoring().timeColumn() != null && !spec.scoring().timeColumn().isBlank()) {
            args.addAll(List.of("--time-column", spec.scoring().timeColumn(),
                    "--window-days", Integer.toString(spec.scoring().windowDays())));
        }
    }

    /** The job's report as local mode's result. */
    static BatchScoreResult batchScoreResult(String sourceTable, ScoringReport report) {
        return new BatchScoreResult(new DatasetRef(report.predictionsTable(), report.predictionsVersion(), report.rows()),
                report.rows(), report.windowFrom(), report.windowTo(), sourceTable, report.sourceVersion(), report.millis());
    }

    /** The job's report as local mode's result; {@code sourceVersion}: the version the job was asked to score. */
    static ShadowResult shadowResult(String sourceTable, ShadowReport report, long sourceVersion) {
        return new ShadowResult(new DatasetRef(report.predictionsTable(), report.predictionsVersion(), report.rows()),
                report.rows(), report.candidateVersion(), report.championVersion(), report.agreementRate(), report.scorePsi(),
                report.meanAbsScoreDiff(), report.candidateMillis(), report.championMillis(), sourceTable, sourceVersion);
    }
}
