package io.trellis.metadata;

/** Lifecycle of a training run; every status but {@link #RUNNING} is final. */
public enum RunStatus {
    RUNNING,
    SUCCEEDED,
    VALIDATION_FAILED,
    GATE_FAILED,
    FAILED;

    public boolean isFinal() {
        return this != RUNNING;
    }
}
