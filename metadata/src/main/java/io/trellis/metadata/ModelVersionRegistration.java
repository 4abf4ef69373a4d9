package io.trellis.metadata;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link Registry#registerModelVersion} records for a finished training run.
 *
 * @param runKey          the run that trained the model; at most one version is ever registered per run
 * @param championVersion the version it was compared with, or null when the model had no champion
 * @param championMetrics that champion's metrics on the same evaluation data, or null
 * @param gateResults     one map per promotion gate (name, threshold, observed value, passed...)
 * @param status          {@link ModelVersionStatus#REGISTERED} when the gates passed, else {@link ModelVersionStatus#REJECTED}
 */
public record ModelVersionRegistration(
        String runKey,
        String algorithm,
        String artifactUri,
        String artifactSha256,
        Long artifactBytes,
        Map<String, Object> params,
        Map<String, Double> metrics,
        Integer championVersion,
        Map<String, Double> championMetrics,
        List<Map<String, Object>> gateResults,
        ModelVersionStatus status,
        String codeVersion,
        String actor) {
    public ModelVersionRegistration {
        Objects.requireNonNull(runKey, "runKey");
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(actor, "actor");
        params = params == null ? Map.of() : params;
        metrics = metrics == null ? Map.of() : metrics;
        gateResults = gateResults == null ? List.of() : gateResults;
    }
}
