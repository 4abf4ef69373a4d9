package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrellisConfigTest {
    @TempDir
    Path tmp;

    @Test
    void defaultsAreTheEmbeddedStackUnderTheHome() {
        TrellisConfig c = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_HOME", tmp.toString(), "TRELLIS_CODE_VERSION", "v"));
        assertThat(c.home()).isEqualTo(tmp);
        assertThat(c.lakeRoot()).isEqualTo(tmp.resolve("lake").toString());
        assertThat(c.artifactRoot()).isEqualTo(tmp.resolve("artifacts"));
        assertThat(c.jdbcUrl()).isEmpty();
        assertThat(c.temporalAddress()).isEmpty();
        assertThat(c.temporalNamespace()).isEqualTo("default");
        assertThat(c.sparkMaster()).isEqualTo("local[*]");
        assertThat(c.sparkConcurrency()).isEqualTo(1);
        assertThat(c.dbPoolSize()).isEqualTo(8);
    }

    @Test
    void environmentOverridesTheFileWhichOverridesDefaults() throws Exception {
        Path file = tmp.resolve("trellis.properties");
        Files.writeString(file, "trellis.temporal.address=temporal:7233\ntrellis.temporal.namespace=ml\ntrellis.db.pool.size=4\n");
        TrellisConfig c = TrellisConfig.load(Optional.of(file), Map.of("TRELLIS_TEMPORAL_NAMESPACE", "prod", "TRELLIS_CODE_VERSION", "v"));
        assertThat(c.temporalAddress()).contains("temporal:7233");
        assertThat(c.temporalNamespace()).isEqualTo("prod");
        assertThat(c.dbPoolSize()).isEqualTo(4);
    }

    @Test
    void unknownSettingsAndBadNumbersAreRejectedByName() throws Exception {
        Path file = tmp.resolve("bad.properties");
        Files.writeString(file, "trellis.temporal.adress=oops\n");
        assertThatThrownBy(() -> TrellisConfig.load(Optional.of(file), Map.of()))
                .hasMessageContaining("unknown setting 'trellis.temporal.adress'")
                .hasMessageContaining("trellis.temporal.address");
        assertThatThrownBy(() -> TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_SPARK_CONCURRENCY", "zero", "TRELLIS_CODE_VERSION", "v")))
                .hasMessageContaining("trellis.spark.concurrency (TRELLIS_SPARK_CONCURRENCY) must be a positive whole number, got 'zero'");
    }

    @Test
    void thePriceSheetAndAccountingAreSettings() {
        TrellisConfig dflt = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_CODE_VERSION", "v"));
        assertThat(dflt.costAccounting()).isTrue();
        assertThat(dflt.prices()).isEqualTo(io.trellis.metadata.PriceSheet.DEFAULT);
        TrellisConfig priced = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_CODE_VERSION", "v", "TRELLIS_COSTS_ACCOUNTING", "false",
                "TRELLIS_COSTS_CURRENCY", "EUR", "TRELLIS_COSTS_PRICE_CORE_HOUR", "0.1", "TRELLIS_COSTS_PRICE_MEMORY_GB_HOUR", "0.01",
                "TRELLIS_COSTS_PRICE_STORAGE_GB_MONTH", "0.02", "TRELLIS_COSTS_PRICE_SCAN_GB", "0"));
        assertThat(priced.costAccounting()).isFalse();
        assertThat(priced.prices()).isEqualTo(new io.trellis.metadata.PriceSheet("EUR", 0.1, 0.01, 0.02, 0));
        assertThat(priced.prices().cost(2, 10, 100, 50)).isCloseTo(0.2 + 0.1 + 0 + 1.0, org.assertj.core.api.Assertions.within(1e-12));
        assertThatThrownBy(() -> TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_COSTS_PRICE_CORE_HOUR", "-1", "TRELLIS_CODE_VERSION", "v")))
                .hasMessageContaining("trellis.costs.price.core.hour (TRELLIS_COSTS_PRICE_CORE_HOUR) must be a price, a number 0 or more");
    }

    @Test
    void thePasswordIsNeverPrinted() {
        TrellisConfig c = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_DB_PASSWORD", "s3cret", "TRELLIS_CODE_VERSION", "v"));
        assertThat(c.toString()).doesNotContain("s3cret").contains("dbPassword=****");
    }

    @Test
    void complianceSettingsDefaultToMigratingAsTheServiceUserWithEventsOnlyStored() {
        TrellisConfig c = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_CODE_VERSION", "v"));
        assertThat(c.dbMigrate()).isTrue();
        assertThat(c.migrationUser()).isEmpty();
        assertThat(c.openLineageUrl()).isEmpty();
        assertThat(c.openLineageApiKey()).isEmpty();
        assertThat(c.openLineageNamespace()).isEqualTo("trellis");
    }

    @Test
    void servicesCanRunAsTheApplicationRoleAndSendEventsWithoutPrintingSecrets() throws Exception {
        Path file = tmp.resolve("app.properties");
        Files.writeString(file, "trellis.jdbc.url=jdbc:postgresql://db/trellis\ntrellis.db.user=app\ntrellis.db.migrate=false\n"
                + "trellis.db.migration.user=owner\ntrellis.db.migration.password=owner-s3cret\n"
                + "trellis.openlineage.url=http://marquez:5000\ntrellis.openlineage.namespace=ml\n");
        TrellisConfig c = TrellisConfig.load(Optional.of(file), Map.of("TRELLIS_OPENLINEAGE_API_KEY", "key-s3cret", "TRELLIS_CODE_VERSION", "v"));
        assertThat(c.dbMigrate()).isFalse();
        assertThat(c.migrationUser()).contains("owner");
        assertThat(c.openLineageUrl()).contains("http://marquez:5000");
        assertThat(c.openLineageNamespace()).isEqualTo("ml");
        assertThat(TrellisRuntime.migrationDatabase(c).user()).isEqualTo("owner");
        assertThat(c.toString()).doesNotContain("owner-s3cret", "key-s3cret").contains("dbMigrate=false", "migrationPassword=****",
                "openLineageApiKey=****");

        assertThatThrownBy(() -> TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_DB_MIGRATE", "no", "TRELLIS_CODE_VERSION", "v")))
                .hasMessageContaining("trellis.db.migrate (TRELLIS_DB_MIGRATE) must be true or false, got 'no'");
        assertThatThrownBy(() -> TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_OPENLINEAGE_URL", "marquez:5000", "TRELLIS_CODE_VERSION", "v")))
                .hasMessageContaining("trellis.openlineage.url (TRELLIS_OPENLINEAGE_URL) must be an http:// or https:// URL, got 'marquez:5000'");
    }

    @Test
    void anS3ArtifactRootSelectsTheS3StoreWithItsSettings() {
        TrellisConfig c = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_HOME", tmp.toString(), "TRELLIS_CODE_VERSION", "v",
                "TRELLIS_ARTIFACT_ROOT", "s3://ml-artifacts/trellis", "TRELLIS_S3_ENDPOINT", "http://minio:9000",
                "TRELLIS_S3_PATH_STYLE", "true", "TRELLIS_S3_REGION", "eu-central-1", "TRELLIS_S3_SSE", "AES256"));
        assertThat(c.artifactS3()).hasValueSatisfying(s -> {
            assertThat(s.bucket()).isEqualTo("ml-artifacts");
            assertThat(s.prefix()).isEqualTo("trellis");
            assertThat(s.endpoint()).hasValueSatisfying(e -> assertThat(e).hasToString("http://minio:9000"));
            assertThat(s.pathStyle()).isTrue();
            assertThat(s.region()).isEqualTo("eu-central-1");
            assertThat(s.sse()).isEqualTo(io.trellis.activities.artifacts.S3Settings.Sse.AES256);
        });
        assertThat(c.artifactRoot()).isEqualTo(tmp.resolve("artifact-cache"));
        assertThat(TrellisConfig.embeddedAt(tmp).artifactS3()).isEmpty();
        assertThatThrownBy(() -> TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_ARTIFACT_ROOT", "s3://b/p",
                "TRELLIS_S3_PATH_STYLE", "yes", "TRELLIS_CODE_VERSION", "v")))
                .hasMessageContaining("trellis.s3.path.style (TRELLIS_S3_PATH_STYLE) must be true or false, got 'yes'");
    }
}
