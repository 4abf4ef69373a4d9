package io.trellis.metadata;

import java.time.Instant;
import java.util.Map;

/** The data-validation verdict of one run on one dataset version. */
public record ValidationRecord(
        String runKey, long datasetVersionId, boolean passed, Map<String, Object> report, Instant createdAt) {
}
