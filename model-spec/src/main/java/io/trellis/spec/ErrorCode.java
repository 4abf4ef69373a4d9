package io.trellis.spec;

/**
 * Every user-facing failure Trellis raises, once. The name doubles as the Temporal
 * {@code ApplicationFailure} type, so the thrower and the retry policy share one constant.
 */
public enum ErrorCode {
    /** The model spec is malformed or inconsistent; fix the YAML. */
    INVALID_MODEL_SPEC(false),
    /** No model of that name is registered; apply its spec first. */
    UNKNOWN_MODEL(false),
    /** No model version with that number exists for the model. */
    UNKNOWN_MODEL_VERSION(false),
    /** The source Delta table does not exist at the configured path. */
    MISSING_TABLE(false),
    /** The source table has no rows. */
    EMPTY_TABLE(false),
    /** The table's schema does not match what the spec (or the target table) expects. */
    SCHEMA_MISMATCH(false),
    /** The data-quality rules failed; no training happens. */
    DATA_VALIDATION_FAILED(false),
    /** A request (CLI or API) is malformed. */
    INVALID_REQUEST(false),
    /** A stored artifact does not match its recorded checksum. */
    ARTIFACT_CHECKSUM_MISMATCH(false),
    /** Another promotion of the same model to the same environment is still active; wait for it or cancel it. */
    PROMOTION_CONFLICT(false),
    /**
     * The model already has a retrain running: retrains of one model never overlap, and one triggered meanwhile
     * is skipped. Wait for the running one, or cancel it.
     */
    RETRAIN_ALREADY_RUNNING(false),
    /** The actor lacks the role the action needs, or the action breaks the four-eyes rule. */
    FORBIDDEN(false),
    /** The action does not fit the current state (already decided, nothing to roll back to...). */
    INVALID_STATE(false),
    /**
     * A retrain's estimated cost is over its model's budget (per run or per month) and the budget's policy is to fail,
     * an approver rejected it or no one decided in time; or a running step took the run past its hard limit.
     */
    BUDGET_EXCEEDED(false),
    /** A transient failure (I/O, database connection, Spark executor loss); retried with backoff. */
    TRANSIENT(true),
    /** No dataset version (Delta table and version) of that name is recorded. */
    UNKNOWN_DATASET_VERSION(false),
    /** No legal hold with that id exists. */
    UNKNOWN_LEGAL_HOLD(false);

    private final boolean retryable;

    ErrorCode(boolean retryable) {
        this.retryable = retryable;
    }

    public boolean retryable() {
        return retryable;
    }
}
