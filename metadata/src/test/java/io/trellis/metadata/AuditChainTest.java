package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * The audit log's hash chain: intact after real registry work, broken exactly where a superuser tampered,
 * never forked by concurrent writers, and the application role may only INSERT and SELECT audit rows.
 * Tests that tamper get a database of their own.
 */
class AuditChainTest {

    @Test
    void chainOfRealRegistryWorkVerifiesIntactIncludingNullsAndNonAsciiText() {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_intact");
        try (MetadataStore store = MetadataStore.open(db)) {
            int rows = writeHistory(store.registry(), "intact");

            ChainVerification result = store.auditChain().verify();

            assertThat(result.intact()).as(result.summary()).isTrue();
            assertThat(result.rowsChecked()).isEqualTo(rows);
            assertThat(result.headSeq()).isEqualTo(rows);
            assertThat(result.brokenAtId()).isNull();
            assertThat(result.summary()).startsWith("intact: " + rows + " rows");
        }
    }

    @Test
    void upgradingADatabaseChainsTheAuditRowsWrittenBeforeTheChainExisted() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_upgrade");
        // A database as V1 and V2 left it (no repeatable views yet: they need V3's columns).
        Path before = Files.createTempDirectory("migrations-before-v3");
        for (String file : List.of("V1__create_registry.sql", "V2__add_promotions.sql")) {
            try (InputStream in = AuditChainTest.class.getResourceAsStream("/db/migration/" + file)) {
                Files.copy(in, before.resolve(file));
            }
        }
        Flyway.configure().dataSource(db.jdbcUrl(), db.user(), db.password()).locations("filesystem:" + before).load().migrate();
        try (Connection c = superuser(db); Statement s = c.createStatement()) {
            s.execute("INSERT INTO audit_log (actor, action, outcome, message, details) VALUES"
                    + " ('alice', 'old.one', 'SUCCESS', 'before V3', '{\"k\": [1, 2]}'),"
                    + " ('bob', 'old.two', 'REJECTED', NULL, NULL)");
        }
        try (MetadataStore store = MetadataStore.open(db)) {
            store.registry().recordAudit("carol", "new.one", AuditOutcome.SUCCESS, null, null, null, "after V3", null);

            ChainVerification result = store.auditChain().verify();

            assertThat(result.intact()).as(result.summary()).isTrue();
            assertThat(result.rowsChecked()).isEqualTo(3);
        }
    }

    @Test
    void verifyFindsExactlyTheRowASuperuserChanged() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_tampered");
        try (MetadataStore store = MetadataStore.open(db)) {
            writeHistory(store.registry(), "tamper");
            long victim = auditIdAtSeq(db, 4);
            asSuperuserWithoutAppendOnlyTrigger(db, "UPDATE audit_log SET actor = 'mallory' WHERE id = " + victim);

            ChainVerification result = store.auditChain().verify();

            assertThat(result.intact()).isFalse();
            assertThat(result.brokenAtId()).isEqualTo(victim);
            assertThat(result.brokenAtSeq()).isEqualTo(4L);
            assertThat(result.rowsChecked()).isEqualTo(4);
            assertThat(result.problem()).contains("content does not match its row_hash");
        }
    }

    @Test
    void rewritingARowTogetherWithItsOwnHashBreaksTheLinkToTheNextRow() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_rehashed");
        try (MetadataStore store = MetadataStore.open(db)) {
            writeHistory(store.registry(), "rehash");
            long victim = auditIdAtSeq(db, 3);
            long next = auditIdAtSeq(db, 4);
            // A careful attacker recomputes the changed row's hash with the database's own function.
            asSuperuserWithoutAppendOnlyTrigger(db, "UPDATE audit_log SET message = 'nothing happened' WHERE id = " + victim,
                    "UPDATE audit_log a SET row_hash = audit_log_row_hash(a.prev_hash, a) WHERE id = " + victim);

            ChainVerification result = store.auditChain().verify();

            assertThat(result.brokenAtId()).isEqualTo(next);
            assertThat(result.problem()).contains("prev_hash");
        }
    }

    @Test
    void verifyReportsDeletedRowsInTheMiddleAndAtTheEnd() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_deleted");
        try (MetadataStore store = MetadataStore.open(db)) {
            int rows = writeHistory(store.registry(), "delete");
            long after = auditIdAtSeq(db, 3);
            asSuperuserWithoutAppendOnlyTrigger(db, "DELETE FROM audit_log WHERE chain_seq = 2");

            ChainVerification middle = store.auditChain().verify();
            assertThat(middle.brokenAtId()).isEqualTo(after);
            assertThat(middle.problem()).contains("chain seq 3 follows 1", "1 row(s) before it are missing");

            DatabaseConfig other = TestingPostgreSqlServer.createDatabase("chain_deleted_tail");
            try (MetadataStore second = MetadataStore.open(other)) {
                writeHistory(second.registry(), "tail");
                asSuperuserWithoutAppendOnlyTrigger(other, "DELETE FROM audit_log WHERE chain_seq = " + rows);

                ChainVerification tail = second.auditChain().verify();
                assertThat(tail.intact()).isFalse();
                assertThat(tail.brokenAtId()).isNull();
                assertThat(tail.problem()).contains("rows at the end were removed");
                assertThat(tail.summary()).startsWith("BROKEN at the end of the chain");
            }
        }
    }

    @Test
    void concurrentWritersNeverForkTheChain() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_concurrent");
        int threads = 8;
        int perThread = 40;
        try (MetadataStore store = MetadataStore.open(db)) {
            Registry registry = store.registry();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        start.await();
                        for (int i = 0; i < perThread; i++) {
                            registry.recordAudit("writer-" + thread, "test.concurrent", AuditOutcome.SUCCESS, null, null, null,
                                    "entry " + i, Map.of("thread", thread, "i", i));
                        }
                        return null;
                    }));
                }
                start.countDown();
                // Verification while the writers run sees a consistent chain every time.
                List<ChainVerification> during = new ArrayList<>();
                while (futures.stream().anyMatch(f -> !f.isDone())) {
                    during.add(store.auditChain().verify());
                }
                for (Future<?> f : futures) {
                    f.get(120, TimeUnit.SECONDS);
                }
                assertThat(during).isNotEmpty().allSatisfy(v -> assertThat(v.intact()).as(v.summary()).isTrue());
            } finally {
                pool.shutdownNow();
            }

            ChainVerification result = store.auditChain().verify();
            assertThat(result.intact()).as(result.summary()).isTrue();
            assertThat(result.rowsChecked()).isEqualTo((long) threads * perThread);
            try (Connection c = superuser(db); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT prev_hash), min(chain_seq), max(chain_seq) FROM audit_log")) {
                rs.next();
                // No fork: no two rows claim the same predecessor, and the sequence is dense.
                assertThat(rs.getLong(1)).isEqualTo(threads * perThread);
                assertThat(rs.getLong(2)).isEqualTo(threads * perThread);
                assertThat(rs.getLong(3)).isEqualTo(1);
                assertThat(rs.getLong(4)).isEqualTo(threads * perThread);
            }
        }
    }

    @Test
    void theApplicationRoleWorksButMayOnlyInsertAndSelectAuditRows() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase("chain_app_role");
        MetadataStore.migrate(db);
        String login = "app_" + Long.toHexString(System.nanoTime());
        try (Connection c = superuser(db); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + login + " LOGIN PASSWORD 'app-secret' IN ROLE trellis_app");
        }
        DatabaseConfig app = new DatabaseConfig(db.jdbcUrl().replace("user=postgres", "user=" + login), login, "app-secret", 4);
        try (MetadataStore store = MetadataStore.connect(app)) {
            int rows = writeHistory(store.registry(), "approle");
            assertThat(store.auditChain().verify().intact()).isTrue();
            assertThat(store.auditChain().verify().rowsChecked()).isEqualTo(rows);
        }
        try (Connection c = DriverManager.getConnection(app.jdbcUrl(), login, "app-secret"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE audit_log SET actor = 'x'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table audit_log");
            assertThatThrownBy(() -> s.executeUpdate("DELETE FROM audit_log"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table audit_log");
            assertThatThrownBy(() -> s.executeUpdate("TRUNCATE audit_log"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table audit_log");
            assertThatThrownBy(() -> s.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("must be owner of table audit_log");
            assertThatThrownBy(() -> s.executeUpdate("UPDATE audit_chain_head SET last_seq = 0"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied for table audit_chain_head");
            assertThatThrownBy(() -> s.executeUpdate("UPDATE audit_trail SET actor = 'x'"))
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
    }

    /** A small but realistic history: spec, runs, a registered version, pointers, refusals, odd text. */
    private static int writeHistory(Registry registry, String prefix) {
        String model = prefix + "-model";
        registry.applyModelSpec(model, "name: " + model, "sha-1", null, "alice");
        registry.startRun("retrain/" + model + "/1", "wf", model, "alice", "first", "sha-1", "c1");
        registry.registerModelVersion(new ModelVersionRegistration("retrain/" + model + "/1", "lr", "file:/a", "sha", 1L,
                Map.of("seed", 7), Map.of("auc", 0.8), null, null, List.of(), ModelVersionStatus.REGISTERED, "c1", "worker"));
        registry.finishRun("retrain/" + model + "/1", RunStatus.SUCCEEDED, null, null, "worker");
        registry.markCandidate("retrain/" + model + "/1", model, 1, "dev", "worker");
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("note", "naïve café ✓ 𝄞");
        details.put("nested", Map.of("b", 2, "a", List.of(1, "x")));
        registry.recordAudit("bob ünïcode", "test.note", AuditOutcome.SUCCESS, null, null, null, "multi\nline 'quoted' 𝄞", details);
        registry.recordAudit("bob", "test.nulls", AuditOutcome.FAILURE, null, null, null, null, null);
        return (int) registry.auditTrail(AuditQuery.all()).size();
    }

    private static long auditIdAtSeq(DatabaseConfig db, long seq) throws SQLException {
        try (Connection c = superuser(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM audit_log WHERE chain_seq = " + seq)) {
            assertThat(rs.next()).isTrue();
            return rs.getLong(1);
        }
    }

    private static void asSuperuserWithoutAppendOnlyTrigger(DatabaseConfig db, String... statements) throws SQLException {
        try (Connection c = superuser(db); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only");
            for (String sql : statements) {
                s.execute(sql);
            }
            s.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only");
            c.commit();
        }
    }

    private static Connection superuser(DatabaseConfig db) throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
    }
}
