package io.trellis.metadata.testing;

import io.trellis.metadata.DatabaseConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One embedded PostgreSQL server per JVM (zonky; it also runs as root), started on first use and stopped
 * by a shutdown hook. Each test class asks for its own fresh database with {@link #createDatabase(String)}
 * so classes never see each other's rows.
 *
 * <pre>{@code
 * @BeforeAll static void start() { store = MetadataStore.open(TestingPostgreSqlServer.createDatabase("registry")); }
 * }</pre>
 */
public final class TestingPostgreSqlServer {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static EmbeddedPostgres server;

    private TestingPostgreSqlServer() {
    }

    /** The shared server, started on the first call. */
    public static synchronized EmbeddedPostgres server() {
        if (server == null) {
            try {
                EmbeddedPostgres started = EmbeddedPostgres.builder().start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        started.close();
                    } catch (IOException ignored) {
                        // The JVM is exiting; a server that fails to stop dies with its data directory.
                    }
                }, "testing-postgres-shutdown"));
                server = started;
            } catch (IOException e) {
                throw new UncheckedIOException("Could not start the embedded PostgreSQL server", e);
            }
        }
        return server;
    }

    /**
     * Creates an empty database with a unique name (derived from {@code purpose}) and returns how to reach it,
     * with a pool of 10 connections. Nothing is migrated yet: {@code MetadataStore.open} does that.
     */
    public static DatabaseConfig createDatabase(String purpose) {
        String name = ("t" + DATABASES.incrementAndGet() + "_" + purpose.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_")
                + "_" + UUID.randomUUID().toString().substring(0, 8));
        if (name.length() > 63) {
            name = name.substring(0, 63);
        }
        EmbeddedPostgres pg = server();
        try (Connection connection = pg.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE \"" + name + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not create test database " + name, e);
        }
        return new DatabaseConfig(pg.getJdbcUrl("postgres", name), "postgres", "postgres", 10);
    }

    /** Same as {@link #createDatabase(String)} for a test class: the database is named after it. */
    public static DatabaseConfig createDatabase(Class<?> testClass) {
        return createDatabase(testClass.getSimpleName());
    }
}
