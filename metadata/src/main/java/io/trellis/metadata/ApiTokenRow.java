package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code api_tokens}: the token's SHA-256, never the token. */
@Entity(name = "ApiTokenRow")
@Table(name = "api_tokens")
class ApiTokenRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "token_id", nullable = false)
    String tokenId;

    @Column(name = "token_sha256", nullable = false)
    String tokenSha256;

    @Column(name = "principal_id", nullable = false)
    Long principalId;

    @Column
    String description;

    @Column(name = "created_by", nullable = false)
    String createdBy;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    @Column(name = "expires_at")
    Instant expiresAt;

    @Column(name = "revoked_at")
    Instant revokedAt;

    @Column(name = "revoked_by")
    String revokedBy;

    @Column(name = "last_used_at")
    Instant lastUsedAt;

    protected ApiTokenRow() {
    }

    ApiTokenRow(String tokenId, String tokenSha256, Long principalId, String description, String createdBy, Instant createdAt,
                Instant expiresAt) {
        this.tokenId = tokenId;
        this.tokenSha256 = tokenSha256;
        this.principalId = principalId;
        this.description = description;
        this.createdBy = createdBy;
        this.createdAt = createdAt;
        this.expiresAt = expiresAt;
    }

    ApiTokenRecord toRecord(String principal) {
        return new ApiTokenRecord(tokenId, principal, description, createdBy, createdAt, expiresAt, revokedAt, revokedBy, lastUsedAt);
    }
}
