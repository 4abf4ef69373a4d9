package io.trellis.workflows.promotion;

import io.temporal.activity.ActivityInterface;

/** Spark scoring steps, on the Spark task queue: the staging shadow run and batch scoring. */
@ActivityInterface(namePrefix = "Scoring")
public interface ScoringActivities {

    ShadowResult shadowScore(ShadowRequest request);

    /** Scores the latest window with the live version into the environment's predictions table. */
    BatchScoreResult batchScore(BatchScoreRequest request);
}
