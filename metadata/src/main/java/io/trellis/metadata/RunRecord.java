package io.trellis.metadata;

import java.time.Instant;
import java.util.Map;

/**
 * One retraining run. {@code runKey} is the Temporal workflow id; {@code finishedAt}, {@code currentStep},
 * {@code failureStep} and {@code failureMessage} may be null;
 * {@code overrides} (data window, hyperparameters as {@code RetrainOverrides.describe()} wrote them) is null for a run
 * that trained exactly as its spec says.
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
        Instant finishedAt,
        Map<String, Object> overrides) {
}
