package io.trellis.workflows.monitor;

/** What a monitoring run records (and its report shows): the target, the comparison (may be null) and the decision. */
public record MonitorRecord(String runKey, String modelName, String environment, Integer version, Double trainingAuc,
                            DriftResult drift, MonitorDecision decision, String reason, String retrainWorkflowId,
                            String reportUri, String requestedBy) {}
