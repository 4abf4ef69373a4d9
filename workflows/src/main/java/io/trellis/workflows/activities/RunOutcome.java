package io.trellis.workflows.activities;

import io.trellis.workflows.retrain.RunStatus;

/** How a run ended, recorded once in the run row and the audit trail. */
public record RunOutcome(String runKey, String modelName, RunStatus status, String failedStep, String message, String actor) {}
