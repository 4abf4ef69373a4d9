package io.trellis.workflows.monitor;

import java.util.List;

/**
 * The outcome of a monitoring run: the decision and why, the retrain it started (its workflow ID) if any, where its
 * report is, and the features that drifted significantly. {@code drift} is null when nothing could be compared.
 */
public record MonitorResult(String runKey, String modelName, String environment, Integer version, MonitorDecision decision,
                            String reason, String retrainWorkflowId, String reportUri, List<String> significantFeatures,
                            DriftResult drift) {}
