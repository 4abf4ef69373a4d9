package io.trellis.activities.spark;

import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.lineage.LineageDataset;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.activities.lineage.StepLineage;
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
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** The scoring activities in local mode, on the worker's shared Spark session (heartbeats, cancellation). */
public final class ScoringActivitiesImpl implements ScoringActivities {
    private final SparkStepRunner runner;
    private final Lake lake;
    private final ArtifactStore artifacts;

    public ScoringActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts) {
        this(spark, lake, artifacts, OpenLineageEmitter.disabled(), UsageSink.NONE);
    }



    /**
     * With each step's OpenLineage run events emitted through {@code openLineage} ({@link OpenLineageEmitter#disabled()}
     * for none) and each attempt's Spark usage recorded to {@code usage} ({@link UsageSink#NONE} for none).
     */
    public ScoringActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts, OpenLineageEmitter openLineage, UsageSink usage) {
        this.runner = new SparkStepRunner(spark, openLineage, usage);
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
        String table = lake.resolve(r.spec().source().table());
        StepLineage<BatchScoreResult> lineage = StepLineage.of(r.runKey(), r.spec().name(),
                List.of(LineageDataset.deltaUnpinned(table), LineageDataset.artifact(r.live().artifact())),
                res -> List.of(LineageDataset.delta(res.sourceTable(), res.sourceVersion(), null), LineageDataset.artifact(r.live().artifact())),
                res -> List.of(LineageDataset.delta(res.predictions())));
        return runner.run("batch scoring", lineage, new UsageLabels(r.spec().name(), r.environment()), spark -> {
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
        List<LineageDataset> models = new ArrayList<>(List.of(LineageDataset.artifact(r.candidate())));
        if (r.production() != null) {
            models.add(LineageDataset.artifact(r.production().artifact()));
        }
        List<LineageDataset> startInputs = new ArrayList<>(List.of(LineageDataset.deltaUnpinned(lake.resolve(r.spec().source().table()))));
        startInputs.addAll(models);
        StepLineage<ShadowResult> lineage = StepLineage.of(r.runKey(), r.spec().name(), startInputs, res -> {
            List<LineageDataset> in = new ArrayList<>(List.of(LineageDataset.delta(res.sourceTable(), res.sourceVersion(), null)));
            in.addAll(models);
            return in;
        }, res -> List.of(LineageDataset.delta(res.predictions())));
        return runner.run("shadow run", lineage, new UsageLabels(r.spec().name(), r.environment()), spark -> {
            String sourcePath = lake.resolve(r.spec().source().table());
            DatasetVersion source = new DatasetVersion(sourcePath, DeltaTables.latestVersion(spark, sourcePath));
            ScoringModel candidate = new ScoringModel(r.candidateVersion(), artifacts.fetch(r.candidate()).toUri().toString());
            ScoringModel production = r.production() == null ? null
                    : new ScoringModel(r.production().version(), artifacts.fetch(r.production().artifact()).toUri().toString());
            ShadowReport report = ShadowComparisonJob.run(spark, r.spec(), source, window(r.spec()), candidate, production,
                    predictionsTable(lake, r.spec().name(), r.environment()), r.runKey() + "/" + r.environment());
            return new ShadowResult(new DatasetRef(report.predictionsTable(), report.predictionsVersion(), report.rows()),
                    report.rows(), report.candidateVersion(), report.championVersion(), report.agreementRate(), report.scorePsi(),
                    report.meanAbsScoreDiff(), report.candidateMillis(), report.championMillis(), source.tablePath(), source.version());
        });
    }
}
