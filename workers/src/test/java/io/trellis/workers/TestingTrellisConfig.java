package io.trellis.workers;

import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spark.testing.TestingSpark;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The configuration the workers' integration tests run under: a fresh home folder, a fresh database on the
 * JVM's shared PostgreSQL, the embedded Temporal server, and the JVM's shared Spark session.
 */
public final class TestingTrellisConfig {
    private TestingTrellisConfig() {}

    /** The settings, as the environment variables a user would set. */
    public static Map<String, String> settings(Class<?> testClass) {
        TestingSpark.session();
        Path home = TestingSpark.newLake(testClass.getSimpleName() + "-home");
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase(testClass);
        return Map.of(
                "TRELLIS_HOME", home.toString(),
                "TRELLIS_JDBC_URL", db.jdbcUrl(),
                "TRELLIS_DB_USER", db.user(),
                "TRELLIS_DB_PASSWORD", db.password(),
                "TRELLIS_CODE_VERSION", "git:e2e");
    }

    public static TrellisConfig forTestClass(Class<?> testClass) {
        return TrellisConfig.load(Optional.empty(), settings(testClass));
    }
}
