package io.trellis.activities.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.lineage.LineageDataset;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.activities.lineage.StepLineage;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.Lake;
import io.trellis.spark.monitor.DriftComparison;
import io.trellis.spark.monitor.DriftJob;
import io.trellis.spark.monitor.ReferenceProfile;
import io.trellis.spark.monitor.WindowProfile;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.monitor.DriftActivities;
import io.trellis.workflows.monitor.DriftResult;
import io.trellis.workflows.monitor.FeatureDriftResult;
import io.trellis.workflows.monitor.StoredScoresRef;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/** Monitoring's Spark steps in local mode, on the worker's shared session (heartbeats, cancellation). */
public final class DriftActivitiesImpl implements DriftActivities {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final SparkStepRunner runner;
    private final Lake lake;
    private final ArtifactStore artifacts;

    public DriftActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts) {
        this(spark, lake, artifacts, OpenLineageEmitter.disabled(), UsageSink.NONE);
    }



    /**
     * With each step's OpenLineage run events emitted through {@code openLineage} ({@link OpenLineageEmitter#disabled()}
     * for none) and each attempt's Spark usage recorded to {@code usage} ({@link UsageSink#NONE} for none).
     */
    public DriftActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts, OpenLineageEmitter openLineage, UsageSink usage) {
        this.runner = new SparkStepRunner(spark, openLineage, usage);
        this.lake = lake;
        this.artifacts = artifacts;
    }

    @Override
    public String referenceProfile(ModelSpec spec, DatasetRef snapshot, ChampionRef live) {
        List<LineageDataset> inputs = List.of(LineageDataset.delta(snapshot), LineageDataset.artifact(live.artifact()));
        StepLineage<String> lineage = StepLineage.of(null, spec.name(), inputs, r -> inputs, r -> List.of());
        return runner.run("reference profile", lineage, new UsageLabels(spec.name(), null), spark -> {
            String model = artifacts.fetch(live.artifact()).toUri().toString();
            return toJson(DriftJob.reference(spark, spec, new DatasetVersion(snapshot.tablePath(), snapshot.version()), model));
        });
    }

    @Override
    public DriftResult assess(ModelSpec spec, ChampionRef live, String referenceProfile, StoredScoresRef latestScoring) {
        StepLineage<DriftResult> lineage = StepLineage.of(null, spec.name(),
                List.of(LineageDataset.deltaUnpinned(lake.resolve(spec.source().table())), LineageDataset.artifact(live.artifact())),
                r -> List.of(LineageDataset.delta(r.sourceTable(), r.sourceVersion(), null), LineageDataset.artifact(live.artifact())),
                r -> List.of());
        return runner.run("drift assessment", lineage, new UsageLabels(spec.name(), null), spark -> {
            ReferenceProfile reference = fromJson(referenceProfile);
            String sourcePath = lake.resolve(spec.source().table());
            DatasetVersion source = new DatasetVersion(sourcePath, DeltaTables.latestVersion(spark, sourcePath));
            // Scores come from what batch scoring wrote for the live version (its latest run as the registry recorded it, when
            // recorded into this table; else found in the table); the model is fetched only to re-score the window when
            // there is nothing stored (a finding says so).
            String predictionsTable = ScoringActivitiesImpl.predictionsTable(lake, spec.name(), live.environment());
            DriftJob.Predictions predictions = new DriftJob.Predictions(predictionsTable, live.version(),
                    latestScoring == null || !latestScoring.predictionsTable().equals(predictionsTable) ? null
                            : new DriftJob.StoredRun(latestScoring.runKey(), latestScoring.recordedAt(), latestScoring.sourceTable(),
                                    latestScoring.sourceVersion()));
            WindowProfile current = DriftJob.current(spark, spec, source, ScoringActivitiesImpl.window(spec), reference, predictions,
                    () -> artifacts.fetch(live.artifact()).toUri().toString());
            return result(DriftComparison.of(reference, current, spec.monitoring().psiModerate(), spec.monitoring().psiSignificant()),
                    current, source);
        });
    }

    /** The workflow's result of an assessment (both Spark modes build it here). */
    public static DriftResult result(DriftComparison c, WindowProfile current, DatasetVersion source) {
        return new DriftResult(c.referenceRows(), c.currentRows(), current.windowFrom(), current.windowTo(), source.tablePath(),
                source.version(),
                c.features().stream().map(f -> new FeatureDriftResult(f.feature(), f.numeric(), f.psi(), f.ks(), f.severity().name(),
                        f.referenceNullRate(), f.currentNullRate(), f.finding(), f.labels(), f.referenceCounts(), f.currentCounts()))
                        .toList(),
                c.predictionPsi(), c.predictionSeverity().name(), c.referenceScores(), c.currentScores(), c.currentAuc(),
                c.labelledRows(), c.findings(), current.scoresFrom());
    }

    /** A reference profile as the JSON the registry stores (both Spark modes). */
    public static String toJson(ReferenceProfile profile) {
        try {
            return JSON.writeValueAsString(profile);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A stored reference profile; INVALID_STATE when it cannot be read. */
    public static ReferenceProfile fromJson(String json) {
        try {
            return JSON.readValue(json, ReferenceProfile.class);
        } catch (JsonProcessingException e) {
            throw new TrellisException(ErrorCode.INVALID_STATE, "the stored reference profile cannot be read (" + e.getOriginalMessage()
                    + "); it was written by an incompatible Trellis version", e);
        }
    }
}
