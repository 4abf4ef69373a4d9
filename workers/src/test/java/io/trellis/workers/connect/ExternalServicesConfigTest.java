package io.trellis.workers.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.workers.TrellisConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The settings for external services: the lake on s3a://, Temporal TLS/API key/payload keys, PostgreSQL TLS, shutdown. */
class ExternalServicesConfigTest {
    @TempDir
    Path tmp;

    private TrellisConfig load(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.put("TRELLIS_HOME", tmp.toString());
        all.put("TRELLIS_CODE_VERSION", "v");
        return TrellisConfig.load(Optional.empty(), all);
    }

    @Test
    void anS3aLakeRootTurnsTheS3SettingsIntoS3aOptionsThatUseTheSdkCredentialChain() {
        TrellisConfig c = load(Map.of("TRELLIS_LAKE_ROOT", "s3a://ml-lake/prod", "TRELLIS_S3_ENDPOINT", "https://minio.internal:9000",
                "TRELLIS_S3_PATH_STYLE", "true", "TRELLIS_S3_REGION", "eu-central-1"));
        assertThat(c.lakeS3a()).hasValueSatisfying(l -> {
            assertThat(l.bucket()).isEqualTo("ml-lake");
            assertThat(l.hadoopOptions()).containsExactly(
                    Map.entry("fs.s3a.endpoint", "https://minio.internal:9000"),
                    Map.entry("fs.s3a.connection.ssl.enabled", "true"),
                    Map.entry("fs.s3a.path.style.access", "true"),
                    Map.entry("fs.s3a.endpoint.region", "eu-central-1"),
                    Map.entry("fs.s3a.aws.credentials.provider", "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider"));
        });
        // AWS itself: no endpoint, the region's, virtual-host addressing
        assertThat(load(Map.of("TRELLIS_LAKE_ROOT", "s3a://ml-lake/prod")).lakeS3a().orElseThrow().hadoopOptions())
                .doesNotContainKey("fs.s3a.endpoint").containsEntry("fs.s3a.path.style.access", "false")
                .containsEntry("fs.s3a.endpoint.region", "us-east-1");
        assertThat(load(Map.of()).lakeS3a()).isEmpty();
        assertThatThrownBy(() -> load(Map.of("TRELLIS_LAKE_ROOT", "s3a:///no-bucket")))
                .hasMessageContaining("trellis.lake.root (TRELLIS_LAKE_ROOT) 's3a:///no-bucket' must look like s3a://bucket/prefix");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_LAKE_ROOT", "s3a://b/l", "TRELLIS_S3_ENDPOINT", "minio:9000")))
                .hasMessageContaining("trellis.s3.endpoint (TRELLIS_S3_ENDPOINT) 'minio:9000' must be an http:// or https:// URL");
    }

    @Test
    void temporalTlsSettingsAreCheckedTogetherAndTheApiKeyIsNeverPrinted() throws Exception {
        Path cert = Files.writeString(tmp.resolve("c.pem"), "x");
        Path key = Files.writeString(tmp.resolve("k.pem"), "x");
        TrellisConfig plain = load(Map.of("TRELLIS_TEMPORAL_ADDRESS", "temporal:7233"));
        assertThat(plain.temporalAccess()).isEqualTo(TemporalAccess.PLAINTEXT);

        TrellisConfig mtls = load(Map.of("TRELLIS_TEMPORAL_TLS_CERT", cert.toString(), "TRELLIS_TEMPORAL_TLS_KEY", key.toString(),
                "TRELLIS_TEMPORAL_API_KEY", "ak-123-secret"));
        assertThat(mtls.temporalAccess().tls()).isTrue();
        assertThat(mtls.temporalAccess().mutualTls()).isTrue();
        assertThat(mtls.toString()).doesNotContain("ak-123-secret").contains("apiKey=****");

        assertThatThrownBy(() -> load(Map.of("TRELLIS_TEMPORAL_TLS_CERT", cert.toString())))
                .hasMessageContaining("go together");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_TEMPORAL_API_KEY", "ak-123-secret")))
                .hasMessageContaining("needs TLS").hasMessageNotContaining("ak-123-secret");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_TEMPORAL_TLS_CA", tmp.resolve("missing.pem").toString())))
                .hasMessageContaining("trellis.temporal.tls.ca (TRELLIS_TEMPORAL_TLS_CA) names").hasMessageContaining("not a readable file");
        // a mounted Kubernetes TLS Secret: tls.crt, tls.key and ca.crt in one folder
        Path dir = Files.createDirectories(tmp.resolve("temporal-tls"));
        for (String f : new String[] {"tls.crt", "tls.key", "ca.crt"}) {
            Files.writeString(dir.resolve(f), "x");
        }
        TemporalAccess fromDir = load(Map.of("TRELLIS_TEMPORAL_TLS_DIR", dir.toString())).temporalAccess();
        assertThat(fromDir.clientCert()).contains(dir.resolve("tls.crt"));
        assertThat(fromDir.clientKey()).contains(dir.resolve("tls.key"));
        assertThat(fromDir.caCert()).contains(dir.resolve("ca.crt"));
        // a key file that is not PEM PKCS#8 is named when the connection is built
        assertThatThrownBy(() -> mtls.temporalAccess().sslContext())
                .hasMessageContaining("trellis.temporal.tls.cert / trellis.temporal.tls.key").hasMessageContaining("PKCS#8");
    }

    @Test
    void payloadKeysComeFromTheSettingsAndAreNeverPrinted() {
        TrellisConfig c = load(Map.of("TRELLIS_TEMPORAL_CODEC_KEYS", "2026-12:" + PayloadEncryptionTest.K2 + ",2026-06:" + PayloadEncryptionTest.K1));
        assertThat(c.payloadEncryption()).hasValueSatisfying(p -> assertThat(p.activeKeyId()).isEqualTo("2026-12"));
        assertThat(c.toString()).contains("keys=[2026-12, 2026-06]").doesNotContain(PayloadEncryptionTest.K1).doesNotContain(PayloadEncryptionTest.K2);
        assertThat(load(Map.of()).payloadEncryption()).isEmpty();
    }

    @Test
    void databaseTlsIsAddedToTheJdbcUrl() throws Exception {
        Path root = Files.writeString(tmp.resolve("root ca.crt"), "x");
        TrellisConfig c = load(Map.of("TRELLIS_JDBC_URL", "jdbc:postgresql://db.internal:5432/trellis",
                "TRELLIS_DB_SSLROOTCERT", root.toString(), "TRELLIS_DB_POOL_SIZE", "20"));
        assertThat(c.jdbcUrl()).contains("jdbc:postgresql://db.internal:5432/trellis?sslmode=verify-full&sslrootcert="
                + root.toString().replace("/", "%2F").replace(" ", "+"));
        assertThat(c.dbPoolSize()).isEqualTo(20);
        assertThat(load(Map.of("TRELLIS_JDBC_URL", "jdbc:postgresql://db/t?connectTimeout=5", "TRELLIS_DB_SSLMODE", "REQUIRE")).jdbcUrl())
                .contains("jdbc:postgresql://db/t?connectTimeout=5&sslmode=require");
        assertThat(load(Map.of("TRELLIS_JDBC_URL", "jdbc:postgresql://db/t")).jdbcUrl()).contains("jdbc:postgresql://db/t");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_JDBC_URL", "jdbc:postgresql://db/t", "TRELLIS_DB_SSLMODE", "verify")))
                .hasMessageContaining("trellis.db.sslmode (TRELLIS_DB_SSLMODE) must be one of");
        assertThatThrownBy(() -> load(Map.of("TRELLIS_JDBC_URL", "jdbc:postgresql://db/t?sslmode=require", "TRELLIS_DB_SSLMODE", "verify-full")))
                .hasMessageContaining("either in the URL or through");
    }

    @Test
    void workerTuningDefaultsToTheSdkAndIsChecked() {
        assertThat(load(Map.of()).workerTuning()).isEqualTo(io.trellis.workers.WorkerTuning.SDK_DEFAULTS);
        assertThat(load(Map.of("TRELLIS_WORKER_CACHE_SIZE", "2000", "TRELLIS_WORKER_POLLERS", "8",
                "TRELLIS_WORKER_ORCHESTRATION_CONCURRENCY", "16")).workerTuning())
                .isEqualTo(new io.trellis.workers.WorkerTuning(2000, 8, 16));
        assertThatThrownBy(() -> load(Map.of("TRELLIS_WORKER_POLLERS", "0")))
                .hasMessageContaining("trellis.worker.pollers (TRELLIS_WORKER_POLLERS) must be a positive whole number");
    }

    @Test
    void theShutdownGraceIsASetting() {
        assertThat(load(Map.of()).workerShutdownSeconds()).isEqualTo(60);
        assertThat(load(Map.of("TRELLIS_WORKER_SHUTDOWN_SECONDS", "5")).workerShutdownSeconds()).isEqualTo(5);
        assertThatThrownBy(() -> load(Map.of("TRELLIS_WORKER_SHUTDOWN_SECONDS", "-1")))
                .hasMessageContaining("trellis.worker.shutdown.seconds (TRELLIS_WORKER_SHUTDOWN_SECONDS) must be a whole number, 0 or more");
    }
}
