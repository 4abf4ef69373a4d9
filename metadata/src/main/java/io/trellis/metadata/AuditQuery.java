package io.trellis.metadata;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.time.Instant;

/**
 * Filter for {@link Registry#auditTrail}: null fields match everything; {@code from} is inclusive and
 * {@code to} exclusive. The trail holds the newest {@code limit} matching entries, oldest first. Bad
 * filters (a reversed time range, a limit outside 1 to {@link #MAX_LIMIT}) are INVALID_REQUEST errors.
 */
public record AuditQuery(String modelName, String runKey, Instant from, Instant to, int limit) {
    public static final int DEFAULT_LIMIT = 1000;
    /** Largest page one query returns; exports and verification stream the whole log instead. */
    public static final int MAX_LIMIT = 10_000;

    public AuditQuery {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The audit page size must be between 1 and " + MAX_LIMIT
                    + ", was " + limit + "; narrow the query (--model, --run, --from/--to) or use trellis export for everything.");
        }
        if (from != null && to != null && !from.isBefore(to)) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The time range is empty or reversed: from " + from + " is not before to "
                    + to + "; pass the earlier instant as from.");
        }
        for (String text : new String[] {modelName, runKey}) {
            if (text != null && text.length() > LineageQueries.MAX_NAME_LENGTH) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "A filter value is " + text.length() + " characters long; at most "
                        + LineageQueries.MAX_NAME_LENGTH + " are accepted.");
            }
        }
    }

    public AuditQuery(String modelName, String runKey, int limit) {
        this(modelName, runKey, null, null, limit);
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
        return new AuditQuery(modelName, runKey, from, to, newLimit);
    }

    /** Only entries at or after {@code start} and before {@code end} (either may be null). */
    public AuditQuery between(Instant start, Instant end) {
        return new AuditQuery(modelName, runKey, start, end, limit);
    }
}
