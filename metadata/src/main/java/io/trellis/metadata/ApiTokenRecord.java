package io.trellis.metadata;

import java.time.Instant;

/**
 * An API token as listed: its public {@code tokenId}, never the secret (only its SHA-256 is stored).
 * {@code expiresAt}, {@code revokedAt}, {@code revokedBy}, {@code lastUsedAt} and {@code description} may be null.
 */
public record ApiTokenRecord(
        String tokenId,
        String principal,
        String description,
        String createdBy,
        Instant createdAt,
        Instant expiresAt,
        Instant revokedAt,
        String revokedBy,
        Instant lastUsedAt) {

    /** Usable at {@code now}: neither revoked nor expired. */
    public boolean activeAt(Instant now) {
        return revokedAt == null && (expiresAt == null || expiresAt.isAfter(now));
    }
}
