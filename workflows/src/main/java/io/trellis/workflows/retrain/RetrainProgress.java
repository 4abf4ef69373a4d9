package io.trellis.workflows.retrain;

/**
 * The answer to the {@code progress} query: the current step and, once it ended, how. Spark job progress
 * (stages and tasks) is in the running activity's heartbeat details, visible in the Temporal UI and the CLI.
 */
public record RetrainProgress(String runKey, String modelName, RetrainStep step, int stepNumber, int totalSteps,
                              RunStatus status, String detail) {}
