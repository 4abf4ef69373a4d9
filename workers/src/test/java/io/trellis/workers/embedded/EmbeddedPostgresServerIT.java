package io.trellis.workers.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.metadata.DatabaseConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresServerIT {
    @TempDir
    Path home;

    @Test
    void dataSurvivesARestartOfTheEmbeddedServer() throws Exception {
        Path data = home.resolve("postgres");
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data)) {
            DatabaseConfig db = pg.databaseConfig(2);
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
                 Statement st = c.createStatement()) {
                st.execute("CREATE TABLE kept (v TEXT)");
                st.execute("INSERT INTO kept VALUES ('still here')");
            }
        }
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data)) {
            DatabaseConfig db = pg.databaseConfig(2);
            try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT v FROM kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("still here");
            }
        }
    }
}
