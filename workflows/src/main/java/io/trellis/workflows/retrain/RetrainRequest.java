package io.trellis.workflows.retrain;

import io.trellis.spec.RetrainOverrides;

/**
 * Start a retrain of a registered model. {@code triggeredBy} is the identity recorded in the audit trail;
 * {@code overrides} (a data window, hyperparameters) is null for a retrain exactly as the spec says.
 */
public record RetrainRequest(String modelName, String triggeredBy, String reason, RetrainOverrides overrides) {
    public RetrainRequest(String modelName, String triggeredBy, String reason) {
        this(modelName, triggeredBy, reason, null);
    }
}
