package io.trellis.metadata;

/**
 * Filter for {@link Registry#auditTrail}: null fields match everything. The trail holds the newest
 * {@code limit} matching entries, oldest first.
 */
public record AuditQuery(String modelName, String runKey, int limit) {
    public static final int DEFAULT_LIMIT = 1000;

    public AuditQuery {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
    }

    public static AuditQuery all() {
        return new AuditQuery(null, null, DEFAULT_LIMIT);
    }

    public static AuditQuery forModel(String modelName) {
        return new AuditQuery(modelName, null, DEFAULT_LIMIT);
    }

    public static AuditQuery forRun(String runKey) {
        return new AuditQuery(null, runKey, DEFAULT_LIMIT);
    }

    public AuditQuery withLimit(int newLimit) {
        return new AuditQuery(modelName, runKey, newLimit);
    }
}
