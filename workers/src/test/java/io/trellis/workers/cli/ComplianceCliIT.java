package io.trellis.workers.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.DatasetKind;
import io.trellis.metadata.DatasetVersionRecord;
import io.trellis.metadata.Decision;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.ModelVersionRegistration;
import io.trellis.metadata.ModelVersionStatus;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.PromotionStatus;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RunStatus;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The compliance commands as a user runs them (audit verify, lineage queries, export) against a real
 * PostgreSQL holding a retrained, approved and deployed model; bad input; and verify after tampering.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ComplianceCliIT {
    private static DatabaseConfig db;
    private static Path configFile;
    private static Instant live;
    @RegisterExtension
    final TestingConsole console = new TestingConsole();
    private final ByteArrayOutputStream stdout = console.stdout;
    private final ByteArrayOutputStream stderr = console.stderr;

    @BeforeAll
    static void history() throws Exception {
        db = TestingPostgreSqlServer.createDatabase(ComplianceCliIT.class);
        Path home = Files.createTempDirectory("compliance-cli");
        configFile = home.resolve("trellis.properties");
        Files.writeString(configFile, "trellis.home=" + home + "\ntrellis.jdbc.url=" + db.jdbcUrl() + "\ntrellis.db.user=" + db.user()
                + "\ntrellis.db.password=" + db.password() + "\ntrellis.code.version=test\n");
        try (MetadataStore store = MetadataStore.open(db)) {
            Registry r = store.registry();
            r.grantRoles("carol", Set.of(PrincipalRole.APPROVER), "admin");
            r.applyModelSpec("churn", "name: churn", "spec-sha", null, "alice");
            r.startRun("retrain/churn/1", "wf", "churn", "alice", "weekly", "spec-sha", "code-1");
            DatasetVersionRecord raw = r.recordDatasetVersion("raw/churn", 4, 1000, DatasetKind.RAW, null);
            r.recordRunInput("retrain/churn/1", raw.id(), "source");
            r.registerModelVersion(new ModelVersionRegistration("retrain/churn/1", "lr", "file:/a", "art", 1L, Map.of("seed", 42),
                    Map.of("auc", 0.8), null, null, List.of(Map.of("gate", "auc >= 0.7", "passed", true)), ModelVersionStatus.REGISTERED,
                    "code-1", "worker"));
            r.finishRun("retrain/churn/1", RunStatus.SUCCEEDED, null, null, "worker");
            String key = "promote/churn/v1/production";
            r.openPromotion(key, "churn", 1, "production", "alice", null);
            r.recordStage(key, Map.of("environment", "staging", "passed", true), AuditOutcome.SUCCESS);
            r.deploy(key, "staging", "worker");
            r.awaitApproval(key);
            r.decide(key, "carol", Decision.APPROVED, "looks good");
            r.deploy(key, "production", "worker");
            r.finishPromotion(key, PromotionStatus.DEPLOYED, null, "worker");
            live = Instant.now();
            DatasetVersionRecord predictions = r.recordDatasetVersion("predictions/churn/production", 0, 50, DatasetKind.PREDICTIONS, null);
            r.recordScoringLineage("churn", 1, predictions.id(), "raw/churn", 4);
        }
    }

    @Test
    @Order(1)
    void lineageQueriesAndExportFromTheCommandLine() throws Exception {
        assertThat(run("audit", "verify")).isZero();
        assertThat(out()).containsPattern("audit chain intact: \\d+ rows, head seq \\d+ hash [0-9a-f]{64}");

        assertThat(run("lineage", "churn", "1")).isZero();
        assertThat(out()).contains("source: raw/churn @ Delta v4 (1000 rows)", "run: retrain/churn/1 by alice, code code-1",
                "training gate: auc >= 0.7 passed", "promotion: promote/churn/v1/production DEPLOYED, requested by alice, approved by carol",
                "deployment: production LIVE");

        assertThat(run("lineage", "downstream", "raw/churn", "--up-to-version", "4")).isZero();
        assertThat(out()).contains("raw/churn @ Delta v4", "source → run retrain/churn/1 (SUCCEEDED)", "produced → churn v1 (REGISTERED)",
                "scored → predictions/churn/production @ Delta v0", "environment: churn v1 LIVE in production");

        assertThat(run("lineage", "live-at", "churn", live.toString())).isZero();
        assertThat(out()).contains("staging: churn v1", "production: churn v1");
        assertThat(run("lineage", "live-at", "churn", "2000-01-01T00:00:00Z")).isZero();
        assertThat(out()).contains("nothing of churn was live at 2000-01-01T00:00:00Z");

        assertThat(run("lineage", "prediction", "predictions/churn/production", "0")).isZero();
        assertThat(out()).contains("written by churn v1");

        Path json = Files.createTempDirectory("export").resolve("churn.json");
        assertThat(run("export", "churn", "-o", json.toString())).isZero();
        assertThat(out()).contains("versions of churn", "audit chain intact");
        assertThat(Files.readString(json)).contains("\"chainVerification\"", "\"intact\" : true", "\"decidedBy\" : \"carol\"");
        Path csv = json.resolveSibling("csv");
        assertThat(run("export", "churn", "--format", "csv", "-o", csv.toString())).isZero();
        assertThat(Files.readString(csv.resolve("audit_trail.csv"))).startsWith("\"Audit ID\",\"Chain Seq\",\"Occurred At (UTC)\"");
    }

    @Test
    @Order(2)
    void badInputGetsAClearErrorAndExitCode() {
        assertThat(run("audit", "--limit", "1000000")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [INVALID_REQUEST]: The audit page size must be between 1 and 10000");
        assertThat(run("audit", "--from", "2026-11-27T00:00:00Z", "--to", "2026-11-26T00:00:00Z")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("reversed");
        assertThat(run("audit", "--from", "yesterday")).isEqualTo(2);
        assertThat(run("lineage", "nope", "1")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [UNKNOWN_MODEL]", "Registered models: churn");
        assertThat(run("lineage", "churn", "7")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [UNKNOWN_MODEL_VERSION]");
        assertThat(run("lineage")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(run("lineage", "downstream", "raw/churn' OR '1'='1")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(err()).contains("error [MISSING_TABLE]");
        assertThat(run("lineage", "live-at", "churn'; DROP TABLE audit_log; --", live.toString())).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(run("export", "nope", "-o", "/tmp/nope.json")).isEqualTo(TrellisCli.EXIT_BAD_INPUT);
        assertThat(run("audit", "--model", "churn' OR '1'='1")).isZero();
        assertThat(out()).isEmpty();
    }

    @Test
    @Order(3)
    void verifyAndExportReportTheRowASuperuserChanged() throws Exception {
        long victim;
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement s = c.createStatement()) {
            try (var rs = s.executeQuery("SELECT id FROM audit_log WHERE action = 'promotion.approved'")) {
                rs.next();
                victim = rs.getLong(1);
            }
            c.setAutoCommit(false);
            s.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only");
            s.execute("UPDATE audit_log SET actor = 'mallory' WHERE id = " + victim);
            s.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only");
            c.commit();
        }
        assertThat(run("audit", "verify")).isEqualTo(TrellisCli.EXIT_CHAIN_BROKEN);
        assertThat(out()).contains("audit chain BROKEN at audit entry " + victim + " ", "the row was changed after it was written");

        Path json = Files.createTempDirectory("export-broken").resolve("churn.json");
        assertThat(run("export", "churn", "-o", json.toString())).isEqualTo(TrellisCli.EXIT_CHAIN_BROKEN);
        assertThat(Files.readString(json)).contains("\"intact\" : false", "\"brokenAtAuditId\" : " + victim);
    }

    private int run(String... args) {
        stdout.reset();
        stderr.reset();
        String[] full = new String[args.length + 2];
        full[0] = "--config";
        full[1] = configFile.toString();
        System.arraycopy(args, 0, full, 2, args.length);
        return TrellisCli.execute(full);
    }

    private String out() {
        return stdout.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }
}
