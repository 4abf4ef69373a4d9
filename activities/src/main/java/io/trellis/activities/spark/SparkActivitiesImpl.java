package io.trellis.activities.spark;

import io.temporal.activity.Activity;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.lineage.LineageDataset;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.activities.lineage.StepLineage;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.Lake;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.evaluate.EvaluationReport;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.features.FeatureReport;
import io.trellis.spark.train.TrainJob;
import io.trellis.spark.train.TrainReport;
import io.trellis.spark.validate.SnapshotReport;
import io.trellis.spark.validate.ValidateJob;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark activities in local mode: each runs its job's core on the worker's shared Spark session (through
 * {@link SparkStepRunner}, which heartbeats progress and cancels on request). Tables are resolved against the
 * lake root; the fitted pipeline goes to the artifact store.
 */
public final class SparkActivitiesImpl implements SparkActivities {
    private final SparkStepRunner runner;
    private final Lake lake;
    private final ArtifactStore artifacts;
    private final Path scratch;

    public SparkActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts, Path scratch) {
        this(spark, lake, artifacts, scratch, OpenLineageEmitter.disabled(), UsageSink.NONE);
    }



    /**
     * With each step's OpenLineage run events emitted through {@code openLineage} ({@link OpenLineageEmitter#disabled()}
     * for none) and each attempt's Spark usage recorded to {@code usage} ({@link UsageSink#NONE} for none).
     */
    public SparkActivitiesImpl(SparkSession spark, Lake lake, ArtifactStore artifacts, Path scratch, OpenLineageEmitter openLineage, UsageSink usage) {
        this.runner = new SparkStepRunner(spark, openLineage, usage);
        this.lake = lake;
        this.artifacts = artifacts;
        this.scratch = scratch.toAbsolutePath();
    }

    /** Where a model's feature table lives: one Delta table per model, one version per run. */
    public static String featureTable(Lake lake, String modelName) {
        return lake.resolve("features/" + modelName);
    }

    /** The artifact-store key of a run's fitted pipeline. */
    public static String artifactKey(String modelName, String runKey) {
        String label = runKey.startsWith("retrain/" + modelName + "/")
                ? runKey.substring(("retrain/" + modelName + "/").length()) : runKey;
        return modelName + "/runs/" + label.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Override
    public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
        String sourcePath = lake.resolve(request.spec().source().table());
        StepLineage<SnapshotResult> lineage = StepLineage.of(request.runKey(), request.spec().name(), List.of(LineageDataset.deltaUnpinned(sourcePath)),
                r -> List.of(LineageDataset.delta(r.source())), r -> List.of());
        return runner.run("snapshot + validate", lineage, UsageLabels.training(request.spec()), spark -> {
            SnapshotReport report = ValidateJob.run(spark, request.spec(), lake.resolve(request.spec().source().table()),
                    request.overrides());
            return new SnapshotResult(new DatasetRef(report.tablePath(), report.deltaVersion(), report.rowCount()),
                    report.passed(),
                    report.results().stream()
                            .map(r -> new RuleResult(r.rule(), r.column(), r.observed(), r.allowed(), r.passed()))
                            .toList());
        });
    }

    @Override
    public FeatureResult buildFeatures(FeatureRequest request) {
        StepLineage<FeatureResult> lineage = StepLineage.of(request.runKey(), request.spec().name(), List.of(LineageDataset.delta(request.source())),
                r -> List.of(LineageDataset.delta(request.source())), r -> List.of(LineageDataset.delta(r.table())));
        return runner.run("build features", lineage, UsageLabels.training(request.spec()), spark -> {
            FeatureReport report = FeatureJob.run(spark, request.spec(),
                    new DatasetVersion(request.source().tablePath(), request.source().version()),
                    featureTable(lake, request.spec().name()), request.runKey(), request.overrides());
            return new FeatureResult(new DatasetRef(report.tablePath(), report.version(), report.trainRows() + report.holdoutRows()),
                    report.trainRows(), report.holdoutRows());
        });
    }

    @Override
    public TrainResult train(TrainRequest request) {
        int attempt = Activity.getExecutionContext().getInfo().getAttempt();
        String key = artifactKey(request.spec().name(), request.runKey());
        Path out = scratch.resolve(key).resolve("attempt-" + attempt);
        List<LineageDataset> features = List.of(LineageDataset.delta(request.features()));
        StepLineage<TrainResult> lineage = StepLineage.of(request.runKey(), request.spec().name(), features, r -> features,
                r -> List.of(LineageDataset.artifact(r.artifact())));
        return runner.run("train", lineage, UsageLabels.training(request.spec()), spark -> {
            try {
                TrainReport report = TrainJob.run(spark, request.spec(),
                        new DatasetVersion(request.features().tablePath(), request.features().version()),
                        out.resolve("model").toUri().toString());
                ArtifactRef artifact = artifacts.put(key, out.resolve("model"));
                return new TrainResult(artifact, report.algorithm(), report.params(), report.trainRows(), report.millis());
            } finally {
                deleteScratch(out);
            }
        });
    }

    @Override
    public EvaluationResult evaluate(EvaluateRequest request) {
        List<LineageDataset> inputs = new ArrayList<>(List.of(LineageDataset.delta(request.features()),
                LineageDataset.artifact(request.candidate())));
        if (request.champion() != null) {
            inputs.add(LineageDataset.artifact(request.champion().artifact()));
        }
        StepLineage<EvaluationResult> lineage = StepLineage.of(request.runKey(), request.spec().name(), inputs, r -> inputs, r -> List.of());
        return runner.run("evaluate", lineage, UsageLabels.training(request.spec()), spark -> {
            Path candidate = artifacts.fetch(request.candidate());
            String championPath = null;
            String championNote = null;
            if (request.champion() != null) {
                try {
                    championPath = artifacts.fetch(request.champion().artifact()).toUri().toString();
                } catch (RuntimeException e) {
                    championNote = "champion v" + request.champion().version() + " not compared: " + e.getMessage();
                }
            }
            EvaluationReport report = EvaluateJob.run(spark, request.spec(),
                    new DatasetVersion(request.features().tablePath(), request.features().version()),
                    candidate.toUri().toString(), championPath);
            if (report.championError() != null) {
                championNote = "champion v" + request.champion().version() + " could not score this holdout: " + report.championError();
            }
            return new EvaluationResult(report.candidate(),
                    report.champion() == null ? null : request.champion().version(),
                    report.champion(), championNote, report.holdoutRows());
        });
    }

    /** Deletes a step's scratch folder (its trained model once stored); also used by the cluster-mode activities. */
    public static void deleteScratch(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
