package io.trellis.workers.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spec.TrellisException;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trellis against a PostgreSQL that speaks TLS: a real server (the embedded binaries) started with {@code ssl=on}
 * and a self-signed certificate made by keytool for this run, reached through {@code trellis.db.sslmode} and
 * {@code trellis.db.sslrootcert} only. The connections really are encrypted ({@code pg_stat_ssl}), and a root
 * certificate that did not sign the server's is refused with an error that names the setting.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseTlsIT {
    @TempDir
    static Path tmp;
    private EmbeddedPostgres postgres;
    private TestingCertificates serverCert;
    private TestingCertificates otherCert;
    private String jdbcUrl;

    @BeforeAll
    void startTlsPostgres() throws Exception {
        serverCert = TestingCertificates.create(tmp.resolve("pg"), "localhost");
        otherCert = TestingCertificates.create(tmp.resolve("other"), "localhost");
        // PostgreSQL refuses a private key that others may read
        Files.setPosixFilePermissions(serverCert.key(), PosixFilePermissions.fromString("rw-------"));
        postgres = EmbeddedPostgres.builder()
                .setDataDirectory(tmp.resolve("data"))
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", serverCert.cert().toString())
                .setServerConfig("ssl_key_file", serverCert.key().toString())
                .start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE trellis");
        }
        jdbcUrl = "jdbc:postgresql://localhost:" + postgres.getPort() + "/trellis";
    }

    @AfterAll
    void stop() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    private TrellisConfig config(Map<String, String> tls) {
        Map<String, String> env = new HashMap<>(tls);
        env.put("TRELLIS_HOME", tmp.resolve("home").toString());
        env.put("TRELLIS_JDBC_URL", jdbcUrl);
        env.put("TRELLIS_DB_USER", "postgres");
        env.put("TRELLIS_DB_POOL_SIZE", "3");
        env.put("TRELLIS_CODE_VERSION", "git:tls");
        return TrellisConfig.load(Optional.empty(), env);
    }

    private static boolean encrypted(TrellisConfig config) throws Exception {
        try (Connection c = DriverManager.getConnection(config.jdbcUrl().orElseThrow(), config.dbUser(), config.dbPassword());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            return rs.getBoolean(1);
        }
    }

    @Test
    void verifyFullWithTheServersRootCertificateConnectsEncrypted() throws Exception {
        TrellisConfig config = config(Map.of("TRELLIS_DB_SSLMODE", "verify-full", "TRELLIS_DB_SSLROOTCERT", serverCert.cert().toString()));
        try (TrellisRuntime runtime = TrellisRuntime.open(config)) { // migrates and opens the pool over TLS
            runtime.queries().ping();
            assertThat(runtime.metadata().auditChain().verify().intact()).isTrue();
        }
        assertThat(encrypted(config)).isTrue();
        // the same server without TLS settings: the driver's default does not insist, which is why verify-full is documented
        assertThat(encrypted(config(Map.of("TRELLIS_DB_SSLMODE", "disable")))).isFalse();
    }

    @Test
    void requireEncryptsWithoutARootCertificate() throws Exception {
        TrellisConfig config = config(Map.of("TRELLIS_DB_SSLMODE", "require"));
        try (TrellisRuntime runtime = TrellisRuntime.open(config)) {
            runtime.queries().ping();
        }
        assertThat(encrypted(config)).isTrue();
    }

    @Test
    void aRootCertificateThatDidNotSignTheServersIsRefusedClearly() {
        TrellisConfig config = config(Map.of("TRELLIS_DB_SSLMODE", "verify-full", "TRELLIS_DB_SSLROOTCERT", otherCert.cert().toString()));
        assertThatThrownBy(() -> TrellisRuntime.open(config)).isInstanceOf(TrellisException.class)
                .hasMessageContaining("cannot open a TLS connection to PostgreSQL (sslmode verify-full, root certificate " + otherCert.cert())
                .hasMessageContaining("trellis.db.sslrootcert (TRELLIS_DB_SSLROOTCERT)");
    }
}
