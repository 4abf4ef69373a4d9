package io.trellis.workflows.monitor;

/** What a monitoring run decided. */
public enum MonitorDecision {
    /** Nothing crossed the policy's thresholds. */
    NO_DRIFT,
    /** The policy fired and a retrain was started. */
    RETRAIN_STARTED,
    /** The policy fired, but a retrain of the model is already running. */
    RETRAIN_ALREADY_RUNNING,
    /** The policy fired, but monitoring started a retrain within the cooldown. */
    RETRAIN_COOLING_DOWN,
    /** Something a retrain cannot fix needs a person: no rows, missing or all-null features, no reference, nothing live. */
    NEEDS_ATTENTION
}
