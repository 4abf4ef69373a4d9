package io.trellis.workflows.activities;

/** Opens a training run. {@code runKey} is the workflow ID, the idempotency key of every step of the run. */
public record RunStart(String runKey, String workflowRunId, String modelName, String triggeredBy, String reason) {}
