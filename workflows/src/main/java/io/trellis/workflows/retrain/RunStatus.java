package io.trellis.workflows.retrain;

/** How a retraining run stands or ended. */
public enum RunStatus {
    RUNNING,
    /** A version was registered and became the dev candidate. */
    SUCCEEDED,
    /** The data-quality rules failed; nothing was trained. */
    VALIDATION_FAILED,
    /** A version was trained and registered as REJECTED: it failed a promotion gate. */
    GATE_FAILED,
    /** A step failed (bad spec, missing table, a non-retryable or exhausted error). */
    FAILED
}
