package io.trellis.workflows.activities;

import io.trellis.spec.RetrainOverrides;

/**
 * Opens a training run. {@code runKey} is the workflow ID, the idempotency key of every step of the run;
 * {@code overrides} (null: none) are checked against the model's spec and recorded with the run.
 */
public record RunStart(String runKey, String workflowRunId, String modelName, String triggeredBy, String reason,
                       RetrainOverrides overrides) {
    public RunStart(String runKey, String workflowRunId, String modelName, String triggeredBy, String reason) {
        this(runKey, workflowRunId, modelName, triggeredBy, reason, null);
    }
}
