package io.trellis.workflows.activities;

import io.temporal.activity.ActivityInterface;

/**
 * The heavy steps, each a Spark job. They run on {@code TaskQueues.SPARK}, heartbeat their Spark progress,
 * and are safe to retry: writes are idempotent per run key.
 */
@ActivityInterface(namePrefix = "Spark")
public interface SparkActivities {

    /** Pins the source table's current version and runs the data-quality rules in one pass. */
    SnapshotResult snapshotAndValidate(SnapshotRequest request);

    /** Builds the model's feature table (a Delta table) from the pinned source version. */
    FeatureResult buildFeatures(FeatureRequest request);

    /** Fits the MLlib pipeline on the train split and stores it in the artifact store. */
    TrainResult train(TrainRequest request);

    /** Scores the holdout with the candidate and the champion, side by side. */
    EvaluationResult evaluate(EvaluateRequest request);
}
