package io.trellis.workflows.schedule;

/** What a schedule starts. */
public enum ScheduleKind {
    /** A {@code RetrainWorkflow} of the model. */
    RETRAIN,
    /** A {@code ScoringWorkflow} of the model in an environment. */
    SCORE
}
