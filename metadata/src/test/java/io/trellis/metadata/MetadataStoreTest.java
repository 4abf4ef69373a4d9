package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The real migrations against a real PostgreSQL, Hibernate's validation of them, and the rules the database enforces. */
class MetadataStoreTest {
    private static DatabaseConfig config;
    private static MetadataStore store;

    @BeforeAll
    static void open() {
        config = TestingPostgreSqlServer.createDatabase(MetadataStoreTest.class);
        store = MetadataStore.open(config);
    }

    @AfterAll
    static void close() {
        store.close();
    }

    @Test
    void migrationsApplyAndHibernateValidatesTheSchema() throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select version, success from flyway_schema_history where version is not null order by installed_rank")) {
            List<String> applied = new ArrayList<>();
            while (rs.next()) {
                assertThat(rs.getBoolean("success")).isTrue();
                applied.add(rs.getString("version"));
            }
            assertThat(applied).startsWith("1", "2");
        }
        // Opening again on a migrated database is a no-op migration followed by the same validation.
        try (MetadataStore again = MetadataStore.open(config)) {
            assertThat(again.registry().findModel("nothing-here")).isEmpty();
        }
    }

    @Test
    void hibernateRefusesASchemaThatDriftedFromTheEntities() throws SQLException {
        DatabaseConfig drifted = TestingPostgreSqlServer.createDatabase("drifted");
        MetadataStore.migrate(drifted);
        try (Connection c = DriverManager.getConnection(drifted.jdbcUrl(), drifted.user(), drifted.password());
             Statement s = c.createStatement()) {
            s.execute("alter table training_runs drop column current_step");
        }
        assertThatThrownBy(() -> MetadataStore.open(drifted))
                .hasStackTraceContaining("current_step");
    }

    @Test
    void databaseAllowsOneOpenPointerPerEnvironmentAndRole() throws SQLException {
        Registry registry = store.registry();
        registry.applyModelSpec("pointer-model", "name: pointer-model", "sha-p", null, "alice");
        for (int i = 1; i <= 2; i++) {
            registry.startRun("retrain/pointer-model/" + i, "wf", "pointer-model", "alice", null, "sha-p", "c1");
            registry.registerModelVersion(new ModelVersionRegistration("retrain/pointer-model/" + i, "lr", "s3://a/" + i,
                    "sha" + i, 10L, Map.of(), Map.of("auc", 0.8), null, null, List.of(), ModelVersionStatus.REGISTERED, "c1", "alice"));
            registry.finishRun("retrain/pointer-model/" + i, RunStatus.SUCCEEDED, null, null, "alice");
        }
        registry.markCandidate("retrain/pointer-model/1", "pointer-model", 1, "staging", "alice");

        String insertOpenCandidate = """
                insert into deployments (environment_id, model_version_id, role, valid_from, deployed_by)
                select e.id, v.id, 'candidate', now(), 'mallory'
                from environments e join models m on m.id = e.model_id join model_versions v on v.model_id = m.id
                where m.name = 'pointer-model' and e.name = 'staging' and v.version = 2""";
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate(insertOpenCandidate))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("deployments_one_open_pointer_idx");
            // A closed row, or another role, is fine.
            assertThat(s.executeUpdate(insertOpenCandidate.replace("'candidate', now()", "'live', now()"))).isEqualTo(1);
        }
    }

    @Test
    void auditLogIsAppendOnly() throws SQLException {
        AuditEntry entry = store.registry().recordAudit("alice", "test.append", AuditOutcome.SUCCESS, null, null, null, "kept", null);
        try (Connection c = connect(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("update audit_log set message = 'changed' where id = " + entry.id()))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("audit_log is append-only: UPDATE of audit entry " + entry.id() + " is not allowed");
            assertThatThrownBy(() -> s.executeUpdate("delete from audit_log where id = " + entry.id()))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("audit_log is append-only: DELETE of audit entry " + entry.id() + " is not allowed");
            assertThatThrownBy(() -> s.executeUpdate("truncate audit_log"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("audit_log is append-only: TRUNCATE is not allowed");
        }
        assertThat(store.registry().auditTrail(AuditQuery.all())).extracting(AuditEntry::message).contains("kept");
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
    }
}
