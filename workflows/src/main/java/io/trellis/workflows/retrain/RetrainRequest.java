package io.trellis.workflows.retrain;

/** Start a retrain of a registered model. {@code triggeredBy} is the identity recorded in the audit trail. */
public record RetrainRequest(String modelName, String triggeredBy, String reason) {}
