package io.trellis.metadata;

import java.time.Instant;
import java.util.Map;

/** One row of the append-only audit log; every field after {@code outcome} may be null. */
public record AuditEntry(
        long id,
        Instant occurredAt,
        String actor,
        String action,
        AuditOutcome outcome,
        String modelName,
        Integer modelVersion,
        String runKey,
        String message,
        Map<String, Object> details) {
}
