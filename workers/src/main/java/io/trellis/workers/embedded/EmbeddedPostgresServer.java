package io.trellis.workers.embedded;

import io.trellis.metadata.DatabaseConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL server (zonky's embedded binaries) on loopback, with its data folder under the Trellis
 * home, so the registry, lineage and audit trail survive from one embedded run to the next.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {
    public static final String DATABASE = "trellis";
    private final EmbeddedPostgres postgres;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
        this.postgres = postgres;
    }

    public static EmbeddedPostgresServer start(Path dataDirectory) {
        return start(dataDirectory, 0);
    }

    /** Starts on the given loopback port (0: a free one); a stopped server restarts on its data and port. */
    public static EmbeddedPostgresServer start(Path dataDirectory, int port) {
        try {
            Files.createDirectories(dataDirectory.getParent());
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false);
            if (port != 0) {
                builder.setPort(port);
            }
            EmbeddedPostgres pg = builder.start();
            EmbeddedPostgresServer server = new EmbeddedPostgresServer(pg);
            server.createDatabaseIfMissing();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + dataDirectory + ": " + e.getMessage(), e);
        }
    }

    private void createDatabaseIfMissing() {
        try (Connection c = postgres.getPostgresDatabase().getConnection();
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            st.execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + DATABASE + ": " + e.getMessage(), e);
        }
    }

    public DatabaseConfig databaseConfig(int poolSize) {
        return new DatabaseConfig(postgres.getJdbcUrl("postgres", DATABASE), "postgres", "", poolSize);
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
