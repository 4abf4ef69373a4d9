package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.spark.DriftActivitiesImpl;
import io.trellis.activities.spark.ScoringActivitiesImpl;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.Lake;
import io.trellis.spark.monitor.DriftComparison;
import io.trellis.spark.monitor.DriftMain;
import io.trellis.spark.monitor.ReferenceProfile;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.monitor.DriftActivities;
import io.trellis.workflows.monitor.DriftResult;
import io.trellis.workflows.monitor.StoredScoresRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Monitoring's Spark steps in cluster mode: the reference profile of a version's training snapshot and the drift
 * assessment of the latest window are spark-submitted as {@link DriftMain} (the shaded {@code spark-jobs} jar) through
 * the same {@link SparkSubmitLauncher} and {@link ClusterSteps} as the retrain's steps and scoring, instead of running
 * on the worker's own session (local mode, {@link DriftActivitiesImpl}). Same counting code, same results: the job
 * reports the profile, and this activity compares it with the reference as local mode does. The stored scores of the
 * run the registry recorded are read by the job; the live model reaches it as the local path {@link ArtifactStore#fetch}
 * returns (fetched up front here, since the job may need it to re-score; see {@link ClusterScoringActivitiesImpl} on
 * what that implies for a remote cluster). Each attempt's usage is recorded under the model, as in local mode.
 */
public final class ClusterDriftActivitiesImpl implements DriftActivities {
    /** Monitoring jobs take the spec's default resources: {@code resources.steps} names only retrain steps. */
    private static final String RESOURCES_STEP = "monitor";
    private final Lake lake;
    private final ArtifactStore artifacts;
    private final ClusterSteps steps;

    public ClusterDriftActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts) {
        this(launcher, lake, artifacts, UsageSink.NONE);
    }

    /** With accounting: each attempt's application usage (from its report) goes to {@code usageSink}, as in local mode. */
    public ClusterDriftActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts, UsageSink usageSink) {
        this.lake = lake;
        this.artifacts = artifacts;
        this.steps = new ClusterSteps(launcher, usageSink);
    }

    @Override
    public String referenceProfile(ModelSpec spec, DatasetRef snapshot, ChampionRef live) {
        Path dir = steps.attemptDir();
        List<String> args = List.of("--spec", ClusterSteps.spec(dir, spec), "--step", "reference",
                "--table", snapshot.tablePath(), "--source-version", Long.toString(snapshot.version()),
                "--model", artifacts.fetch(live.artifact()).toUri().toString());
        JsonNode result = steps.submit("reference profile", RESOURCES_STEP, spec, new UsageLabels(spec.name(), null), dir,
                DriftMain.class, args);
        return DriftActivitiesImpl.toJson(ClusterSteps.read(result, ReferenceProfile.class));
    }

    @Override
    public DriftResult assess(ModelSpec spec, ChampionRef live, String referenceProfile, StoredScoresRef latestScoring) {
        Path dir = steps.attemptDir();
        ReferenceProfile reference = DriftActivitiesImpl.fromJson(referenceProfile);
        String predictionsTable = ScoringActivitiesImpl.predictionsTable(lake, spec.name(), live.environment());
        List<String> args = new ArrayList<>(List.of("--spec", ClusterSteps.spec(dir, spec), "--step", "current",
                "--table", lake.resolve(spec.source().table()),
                "--reference", ClusterSteps.write(dir.resolve("reference-profile.json"), reference),
                "--model", artifacts.fetch(live.artifact()).toUri().toString(),
                "--predictions", predictionsTable, "--model-version", Integer.toString(live.version())));
        // As local mode: the run the registry recorded, when recorded into this table; else the job finds it.
        if (latestScoring != null && latestScoring.predictionsTable().equals(predictionsTable)) {
            args.addAll(List.of("--run-key", latestScoring.runKey(), "--run-scored-at", latestScoring.recordedAt(),
                    "--run-source-table", latestScoring.sourceTable(),
                    "--run-source-version", Long.toString(latestScoring.sourceVersion())));
        }
        JsonNode result = steps.submit("drift assessment", RESOURCES_STEP, spec, new UsageLabels(spec.name(), null), dir,
                DriftMain.class, args);
        DriftMain.Current current = ClusterSteps.read(result, DriftMain.Current.class);
        return DriftActivitiesImpl.result(DriftComparison.of(reference, current.profile(), spec.monitoring().psiModerate(),
                spec.monitoring().psiSignificant()), current.profile(), new DatasetVersion(current.sourceTable(), current.sourceVersion()));
    }
}
