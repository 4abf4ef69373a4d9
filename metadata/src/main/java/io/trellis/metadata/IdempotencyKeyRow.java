package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code idempotency_keys}. */
@Entity(name = "IdempotencyKeyRow")
@Table(name = "idempotency_keys")
class IdempotencyKeyRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(nullable = false)
    String principal;

    @Column(name = "idem_key", nullable = false)
    String idemKey;

    @Column(nullable = false)
    String scope;

    @Column(name = "request_sha256", nullable = false)
    String requestSha256;

    @Column(name = "resource_key", nullable = false)
    String resourceKey;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    @Column(name = "expires_at", nullable = false)
    Instant expiresAt;

    protected IdempotencyKeyRow() {
    }

    IdempotencyKeyRow(String principal, String idemKey, String scope, String requestSha256, String resourceKey, Instant createdAt,
                      Instant expiresAt) {
        this.principal = principal;
        this.idemKey = idemKey;
        this.scope = scope;
        this.requestSha256 = requestSha256;
        this.resourceKey = resourceKey;
        this.createdAt = createdAt;
        this.expiresAt = expiresAt;
    }
}
