package io.trellis.metadata;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * API access data: bearer tokens and idempotency keys.
 *
 * <p>A token acts as a principal (see {@link Registry#grantRoles}); its roles are the principal's at the time of
 * each request, so revoking a role takes effect at once. Only the token's SHA-256 is stored: a database dump
 * cannot be replayed as credentials. Tokens are 32 random bytes, so an unsalted fast hash is enough (there is
 * nothing to brute-force). Creating and revoking tokens is audited; using one is not (the API's actions are).
 */
public final class ApiAccess {
    /** Every secret starts with this, so secret scanners and people can recognise a leaked Trellis token. */
    public static final String SECRET_PREFIX = "trellis_";
    /** {@code last_used_at} is refreshed at most this often, so reads do not turn into a write per request. */
    private static final Duration LAST_USED_RESOLUTION = Duration.ofMinutes(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Transactions tx;

    ApiAccess(Transactions tx) {
        this.tx = tx;
    }

    // ---------------------------------------------------------------- tokens

    /**
     * Creates a token acting as {@code principal}, which must exist (grant it roles first), valid for {@code ttl}
     * (null: until revoked), and audits {@code token.created}. The returned secret is not stored anywhere.
     */
    public IssuedToken createToken(String principal, String description, Duration ttl, String actor) {
        requireText(principal, "principal");
        requireText(actor, "actor");
        if (ttl != null && (ttl.isNegative() || ttl.isZero())) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "A token's lifetime must be positive, was " + ttl
                    + "; pass e.g. 90d, or no lifetime for a token valid until revoked.");
        }
        byte[] secretBytes = new byte[32];
        RANDOM.nextBytes(secretBytes);
        String secret = SECRET_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
        byte[] idBytes = new byte[6];
        RANDOM.nextBytes(idBytes);
        String tokenId = "tok_" + HexFormat.of().formatHex(idBytes);
        return tx.inTransaction(em -> {
            PrincipalRow p = principalRow(em, principal).orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST,
                    "No principal named '" + principal + "' is known, so no token can act as it; grant it roles first"
                            + " (trellis principals grant " + principal + " viewer ...)."));
            Instant now = Registry.now();
            ApiTokenRow row = new ApiTokenRow(tokenId, sha256Hex(secret), p.id, description, actor, now,
                    ttl == null ? null : now.plus(ttl));
            em.persist(row);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("tokenId", tokenId);
            details.put("principal", principal);
            details.put("expiresAt", row.expiresAt == null ? null : row.expiresAt.toString());
            Registry.audit(em, actor, "token.created", AuditOutcome.SUCCESS, null, null, null,
                    "Created API token " + tokenId + " for " + principal
                            + (row.expiresAt == null ? " (valid until revoked)" : " (expires " + row.expiresAt + ")"), details);
            return new IssuedToken(row.toRecord(p.name), secret);
        });
    }

    /** Revokes the token and audits {@code token.revoked}; revoking a revoked token returns it unchanged. */
    public ApiTokenRecord revokeToken(String tokenId, String actor) {
        requireText(tokenId, "token id");
        requireText(actor, "actor");
        return tx.inTransaction(em -> {
            ApiTokenRow row = em.createQuery("from ApiTokenRow t where t.tokenId = :id", ApiTokenRow.class)
                    .setParameter("id", tokenId).setLockMode(LockModeType.PESSIMISTIC_WRITE).getResultStream().findFirst()
                    .orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST, "No API token with id '" + tokenId
                            + "' exists; list them with `trellis tokens list` (ids look like tok_0123456789ab)."));
            String principal = em.find(PrincipalRow.class, row.principalId).name;
            if (row.revokedAt != null) {
                return row.toRecord(principal);
            }
            row.revokedAt = Registry.now();
            row.revokedBy = actor;
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("tokenId", tokenId);
            details.put("principal", principal);
            Registry.audit(em, actor, "token.revoked", AuditOutcome.SUCCESS, null, null, null,
                    "Revoked API token " + tokenId + " of " + principal, details);
            return row.toRecord(principal);
        });
    }

    /** Every token (of {@code principal}, or all when null), newest first. */
    public List<ApiTokenRecord> tokens(String principal) {
        return tx.inTransaction(em -> {
            var q = em.createQuery("select t, p.name from ApiTokenRow t join PrincipalRow p on p.id = t.principalId"
                    + (principal == null ? "" : " where p.name = :p") + " order by t.id desc", Object[].class);
            if (principal != null) {
                q.setParameter("p", principal);
            }
            return q.getResultList().stream().map(r -> ((ApiTokenRow) r[0]).toRecord((String) r[1])).toList();
        });
    }

    /** Looks a presented secret up by its hash; a valid token's last use is recorded (at a minute's resolution). */
    public TokenCheck checkToken(String secret) {
        if (secret == null || secret.isEmpty()) {
            return new TokenCheck(TokenCheck.Status.UNKNOWN, null, null);
        }
        String hash = sha256Hex(secret);
        return tx.inTransaction(em -> {
            Optional<ApiTokenRow> found = em.createQuery("from ApiTokenRow t where t.tokenSha256 = :h", ApiTokenRow.class)
                    .setParameter("h", hash).getResultStream().findFirst();
            if (found.isEmpty()) {
                return new TokenCheck(TokenCheck.Status.UNKNOWN, null, null);
            }
            ApiTokenRow row = found.get();
            PrincipalRow p = em.find(PrincipalRow.class, row.principalId);
            Instant now = Registry.now();
            TokenCheck.Status status = row.revokedAt != null ? TokenCheck.Status.REVOKED
                    : row.expiresAt != null && !row.expiresAt.isAfter(now) ? TokenCheck.Status.EXPIRED
                    : TokenCheck.Status.VALID;
            if (status == TokenCheck.Status.VALID
                    && (row.lastUsedAt == null || row.lastUsedAt.isBefore(now.minus(LAST_USED_RESOLUTION)))) {
                row.lastUsedAt = now;
            }
            return new TokenCheck(status, row.toRecord(p.name), p.toRecord());
        });
    }

    // ---------------------------------------------------------------- idempotency keys

    /** The outcome of {@link #claimIdempotencyKey}: the resource the key names, and whether this call made the claim. */
    public record IdempotencyClaim(String resourceKey, boolean created, Instant createdAt) {}

    /**
     * Claims {@code key} for {@code principal}: the first call within {@code window} records {@code proposedResourceKey}
     * and gets {@code created == true}; every later call with the same key (concurrent ones included: they wait for
     * the first to commit) gets the first call's resource. A key whose window has passed is claimed afresh. Reusing
     * a live key for another scope or request body fails with {@link IdempotencyKeyReusedException}.
     */
    public IdempotencyClaim claimIdempotencyKey(String principal, String key, String scope, String requestSha256,
                                                String proposedResourceKey, Duration window) {
        requireText(principal, "principal");
        requireText(key, "idempotency key");
        requireText(scope, "scope");
        requireText(requestSha256, "request hash");
        requireText(proposedResourceKey, "resource key");
        return tx.inTransaction(em -> {
            Instant now = Registry.now();
            // Drop this key's expired claim first, so the insert below can take the key again.
            em.createQuery("delete from IdempotencyKeyRow k where k.principal = :p and k.idemKey = :k and k.expiresAt <= :now")
                    .setParameter("p", principal).setParameter("k", key).setParameter("now", now).executeUpdate();
            // ON CONFLICT DO NOTHING: racing claimers wait on the winner's uncommitted row, then insert nothing.
            int inserted = em.createNativeQuery("insert into idempotency_keys"
                            + " (principal, idem_key, scope, request_sha256, resource_key, created_at, expires_at)"
                            + " values (?1, ?2, ?3, ?4, ?5, ?6, ?7) on conflict (principal, idem_key) do nothing")
                    .setParameter(1, principal).setParameter(2, key).setParameter(3, scope).setParameter(4, requestSha256)
                    .setParameter(5, proposedResourceKey).setParameter(6, now).setParameter(7, now.plus(window))
                    .executeUpdate();
            IdempotencyKeyRow row = em.createQuery("from IdempotencyKeyRow k where k.principal = :p and k.idemKey = :k",
                            IdempotencyKeyRow.class)
                    .setParameter("p", principal).setParameter("k", key).getSingleResult();
            if (inserted == 0 && (!row.scope.equals(scope) || !row.requestSha256.equals(requestSha256))) {
                throw new IdempotencyKeyReusedException("Idempotency-Key '" + key + "' was already used at " + row.createdAt
                        + (row.scope.equals(scope) ? " with a different request body" : " for another request (" + row.scope + ")")
                        + "; it names " + row.resourceKey + " until " + row.expiresAt
                        + ". Use a new key for a new request, or resend the original request unchanged.");
            }
            return new IdempotencyClaim(row.resourceKey, inserted == 1, row.createdAt);
        });
    }

    /** Reusing an idempotency key for a different request. */
    public static final class IdempotencyKeyReusedException extends TrellisException {
        IdempotencyKeyReusedException(String message) {
            super(ErrorCode.INVALID_REQUEST, message);
        }
    }

    // ---------------------------------------------------------------- internals

    public static String sha256Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static Optional<PrincipalRow> principalRow(EntityManager em, String name) {
        return em.createQuery("from PrincipalRow p where p.name = :n", PrincipalRow.class)
                .setParameter("n", name).getResultStream().findFirst();
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The " + what + " is missing; pass a non-blank value.");
        }
    }
}
