package io.trellis.activities.spark;

import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.Lake;
import io.trellis.spark.scoring.BatchScoringJob;
import io.trellis.spark.scoring.ScoringModel;
import io.trellis.spark.scoring.ScoringReport;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spark.scoring.ShadowComparisonJob;
import io.trellis.spark.scoring.ShadowReport;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.promotion.BatchScoreRequest;
import io.trellis.workflows.promotion.BatchScoreResult;
import io.trellis.workflows.promotion.ScoringActivities;
import io.trellis.workflows.promotion.ShadowRequest;
import io.trellis.workflows.promotion.ShadowResult;
import org.apache.spark.sql.SparkSession;

/** The scoring activities in local mode, on the worker's shared Spark session (heartbeats, cancellation). */
public final class ScoringActivitiesImpl implements ScoringActivities {
    private final SparkStepRunner runner;
    private final Lake lake;
    private final ArtifactStore artifacts;

    public ScoringActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts) {
        this(spark, lake, artifacts, UsageSink.NONE);
    }

    /** With resource accounting: each attempt's Spark usage goes to {@code usage}. */
    public ScoringActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts, UsageSink usage) {
        this.runner = new SparkStepRunner(spark, usage);
        this.lake = lake;
        this.artifacts = artifacts;
    }

    /** One Delta predictions table per model and environment; every row names the version that produced it. */
    public static String predictionsTable(Lake lake, String modelName, String environment) {
        return lake.resolve("predictions/" + modelName + "/" + environment);
    }

    static ScoringWindow window(ModelSpec spec) {
        return new ScoringWindow(spec.scoring().timeColumn(), spec.scoring().windowDays());
    }

    @Override
    public BatchScoreResult batchScore(BatchScoreRequest r) {
        return runner.run("batch scoring", new UsageLabels(r.spec().name(), r.environment()), spark -> {
            String sourcePath = lake.resolve(r.spec().source().table());
            DatasetVersion source = new DatasetVersion(sourcePath, DeltaTables.latestVersion(spark, sourcePath));
            ScoringModel live = new ScoringModel(r.live().version(), artifacts.fetch(r.live().artifact()).toUri().toString());
            ScoringReport report = BatchScoringJob.run(spark, r.spec(), source, window(r.spec()), live,
                    predictionsTable(lake, r.spec().name(), r.environment()), r.runKey());
            return new BatchScoreResult(new DatasetRef(report.predictionsTable(), report.predictionsVersion(), report.rows()),
                    report.rows(), report.windowFrom(), report.windowTo(), sourcePath, report.sourceVersion(), report.millis());
        });
    }

    @Override
    public ShadowResult shadowScore(ShadowRequest r) {
        return runner.run("shadow run", new UsageLabels(r.spec().name(), r.environment()), spark -> {
            String sourcePath = lake.resolve(r.spec().source().table());
            DatasetVersion source = new DatasetVersion(sourcePath, DeltaTables.latestVersion(spark, sourcePath));
            ScoringModel candidate = new ScoringModel(r.candidateVersion(), artifacts.fetch(r.candidate()).toUri().toString());
            ScoringModel production = r.production() == null ? null
                    : new ScoringModel(r.production().version(), artifacts.fetch(r.production().artifact()).toUri().toString());
            ShadowReport report = ShadowComparisonJob.run(spark, r.spec(), source, window(r.spec()), candidate, production,
                    predictionsTable(lake, r.spec().name(), r.environment()), r.runKey() + "/" + r.environment());
            return new ShadowResult(new DatasetRef(report.predictionsTable(), report.predictionsVersion(), report.rows()),
                    report.rows(), report.candidateVersion(), report.championVersion(), report.agreementRate(), report.scorePsi(),
                    report.meanAbsScoreDiff(), report.candidateMillis(), report.championMillis());
        });
    }
}
