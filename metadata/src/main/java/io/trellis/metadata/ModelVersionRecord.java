package io.trellis.metadata;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A trained model version. {@code championVersion} and {@code championMetrics} describe the champion it
 * was compared with and are null when there was none; the artifact fields may be null for a rejected version
 * whose artifact was not kept.
 */
public record ModelVersionRecord(
        long id,
        String modelName,
        int version,
        String runKey,
        ModelVersionStatus status,
        String algorithm,
        String artifactUri,
        String artifactSha256,
        Long artifactBytes,
        Map<String, Object> params,
        Map<String, Double> metrics,
        Integer championVersion,
        Map<String, Double> championMetrics,
        List<Map<String, Object>> gateResults,
        String codeVersion,
        Instant createdAt) {
}
