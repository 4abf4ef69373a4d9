package io.trellis.metadata;

import java.time.Instant;

/**
 * One retraining run. {@code runKey} is the Temporal workflow id; {@code finishedAt}, {@code currentStep},
 * {@code failureStep} and {@code failureMessage} may be null.
 */
public record RunRecord(
        long id,
        String runKey,
        String modelName,
        String workflowRunId,
        RunStatus status,
        String currentStep,
        String triggeredBy,
        String reason,
        String specSha256,
        String codeVersion,
        String failureStep,
        String failureMessage,
        Instant startedAt,
        Instant finishedAt) {
}
