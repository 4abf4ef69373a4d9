package io.trellis.metadata;

import java.time.Instant;

/** An immutable Delta table version that Trellis read or wrote; {@code ingestKey} may be null. */
public record DatasetVersionRecord(
        long id,
        String tablePath,
        long deltaVersion,
        long rowCount,
        DatasetKind kind,
        String ingestKey,
        Instant createdAt) {
}
