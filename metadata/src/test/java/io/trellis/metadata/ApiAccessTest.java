package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.TrellisException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** API tokens, idempotency keys and the paged queries against the real schema. */
class ApiAccessTest {
    private static DatabaseConfig config;
    private static MetadataStore store;
    private static ApiAccess access;
    private static Registry registry;

    @BeforeAll
    static void open() {
        config = TestingPostgreSqlServer.createDatabase(ApiAccessTest.class);
        store = MetadataStore.open(config);
        access = store.apiAccess();
        registry = store.registry();
        registry.grantRoles("paula", Set.of(PrincipalRole.VIEWER, PrincipalRole.ML_ENGINEER), "root");
    }

    @AfterAll
    static void close() {
        store.close();
    }

    @Test
    void tokensAreStoredHashedCheckedRevokedAndAudited() throws Exception {
        IssuedToken issued = access.createToken("paula", "ci pipeline", Duration.ofDays(30), "root");
        assertThat(issued.secret()).startsWith(ApiAccess.SECRET_PREFIX).hasSizeGreaterThan(40);
        assertThat(issued.toString()).doesNotContain(issued.secret());
        assertThat(issued.token().tokenId()).matches("tok_[0-9a-f]{12}");

        try (Connection c = DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
             ResultSet rs = c.createStatement().executeQuery("select * from api_tokens")) {
            while (rs.next()) {
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    assertThat(String.valueOf(rs.getObject(i))).doesNotContain(issued.secret());
                }
            }
        }

        TokenCheck ok = access.checkToken(issued.secret());
        assertThat(ok.status()).isEqualTo(TokenCheck.Status.VALID);
        assertThat(ok.principal().name()).isEqualTo("paula");
        assertThat(ok.principal().roles()).containsExactly(PrincipalRole.VIEWER, PrincipalRole.ML_ENGINEER);
        assertThat(access.checkToken(issued.secret() + "x").status()).isEqualTo(TokenCheck.Status.UNKNOWN);
        assertThat(access.checkToken("").status()).isEqualTo(TokenCheck.Status.UNKNOWN);

        ApiTokenRecord revoked = access.revokeToken(issued.token().tokenId(), "root");
        assertThat(revoked.revokedBy()).isEqualTo("root");
        assertThat(access.revokeToken(issued.token().tokenId(), "someone-else")).isEqualTo(revoked);
        assertThat(access.checkToken(issued.secret()).status()).isEqualTo(TokenCheck.Status.REVOKED);
        assertThat(access.tokens("paula")).extracting(ApiTokenRecord::tokenId).contains(issued.token().tokenId());

        List<String> actions = registry.auditTrail(AuditQuery.all()).stream().map(AuditEntry::action).toList();
        assertThat(actions.stream().filter(a -> a.startsWith("token.")).toList()).containsExactly("token.created", "token.revoked");
    }

    @Test
    void badTokenRequestsAreRefusedWithPreciseMessages() {
        assertThatThrownBy(() -> access.createToken("nobody", null, null, "root"))
                .isInstanceOf(TrellisException.class).hasMessageContaining("No principal named 'nobody'");
        assertThatThrownBy(() -> access.createToken("paula", null, Duration.ofSeconds(-1), "root"))
                .isInstanceOf(TrellisException.class).hasMessageContaining("lifetime must be positive");
        assertThatThrownBy(() -> access.revokeToken("tok_000000000000", "root"))
                .isInstanceOf(TrellisException.class).hasMessageContaining("No API token with id 'tok_000000000000'");
    }

    @Test
    void concurrentClaimsOfOneKeyAgreeOnTheFirstResource() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<ApiAccess.IdempotencyClaim>> futures = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String proposal = "run-" + i;
                futures.add(pool.submit(() -> access.claimIdempotencyKey("paula", "k-1", "retrain:m", "h1", proposal, Duration.ofHours(1))));
            }
            Set<String> resources = new HashSet<>();
            int created = 0;
            for (Future<ApiAccess.IdempotencyClaim> f : futures) {
                resources.add(f.get().resourceKey());
                created += f.get().created() ? 1 : 0;
            }
            assertThat(resources).hasSize(1);
            assertThat(created).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        // The same key from another identity is another key.
        assertThat(access.claimIdempotencyKey("other", "k-1", "retrain:m", "h1", "run-x", Duration.ofHours(1)).created()).isTrue();
        assertThatThrownBy(() -> access.claimIdempotencyKey("paula", "k-1", "retrain:m", "h2", "run-y", Duration.ofHours(1)))
                .isInstanceOf(ApiAccess.IdempotencyKeyReusedException.class).hasMessageContaining("different request body");
        assertThatThrownBy(() -> access.claimIdempotencyKey("paula", "k-1", "retrain:n", "h1", "run-y", Duration.ofHours(1)))
                .isInstanceOf(ApiAccess.IdempotencyKeyReusedException.class).hasMessageContaining("another request (retrain:m)");
    }

    @Test
    void anExpiredKeyIsClaimedAfresh() {
        ApiAccess.IdempotencyClaim first = access.claimIdempotencyKey("paula", "short", "retrain:m", "h", "run-a", Duration.ofMillis(1));
        Instant until = Instant.now().plusSeconds(5);
        while (!Instant.now().isAfter(first.createdAt().plusMillis(5)) && Instant.now().isBefore(until)) {
            Thread.onSpinWait();
        }
        ApiAccess.IdempotencyClaim second = access.claimIdempotencyKey("paula", "short", "retrain:m", "h", "run-b", Duration.ofHours(1));
        assertThat(second.created()).isTrue();
        assertThat(second.resourceKey()).isEqualTo("run-b");
    }

    @Test
    void auditPagesAreStableAndFiltered() {
        for (int i = 0; i < 7; i++) {
            registry.recordAudit(i % 2 == 0 ? "pager-even" : "pager-odd", "test.paged", AuditOutcome.SUCCESS, "paged-model", i, null, "row " + i, null);
        }
        RegistryQueries q = store.queries();
        List<String> seen = new ArrayList<>();
        Long cursor = null;
        int pages = 0;
        do {
            RegistryQueries.Page<AuditEntry> page = q.audit(new RegistryQueries.AuditFilter("paged-model", null, null, "test.paged",
                    null, null, null, null, cursor, 3));
            page.items().forEach(e -> seen.add(e.message()));
            cursor = page.nextCursor();
            pages++;
            if (pages == 1) {
                // A row written between pages shows up at the end, never shifting what is already paged.
                registry.recordAudit("pager-odd", "test.paged", AuditOutcome.SUCCESS, "paged-model", 7, null, "row 7", null);
            }
        } while (cursor != null);
        assertThat(seen).containsExactly("row 0", "row 1", "row 2", "row 3", "row 4", "row 5", "row 6", "row 7");
        assertThat(pages).isEqualTo(3);
        assertThat(q.audit(new RegistryQueries.AuditFilter(null, 3, "pager-odd", null, null, null, null, null, null, 10)).items())
                .extracting(AuditEntry::message).containsExactly("row 3");
        assertThatThrownBy(() -> q.audit(new RegistryQueries.AuditFilter(null, null, null, null, null, null, null, null, null, 0)))
                .hasMessageContaining("limit must be between 1 and 1000");
        Instant t = Instant.now();
        assertThatThrownBy(() -> q.audit(new RegistryQueries.AuditFilter(null, null, null, null, null, null, t, t, null, 5)))
                .hasMessageContaining("time range is empty");
        assertThatThrownBy(() -> q.runs(new RegistryQueries.RunFilter("no-such-model", null, null, null, 5)))
                .hasMessageContaining("No model named 'no-such-model'");
    }
}
