package io.trellis.metadata;

import java.util.Objects;

/**
 * How to reach the metadata database.
 *
 * @param jdbcUrl  for example {@code jdbc:postgresql://localhost:5432/trellis}
 * @param user     database user
 * @param password database password (never printed by {@link #toString()})
 * @param poolSize the most connections the store keeps open
 */
public record DatabaseConfig(String jdbcUrl, String user, String password, int poolSize) {
    public DatabaseConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        if (poolSize < 1) {
            throw new IllegalArgumentException("poolSize must be at least 1, was " + poolSize);
        }
    }

    @Override
    public String toString() {
        return "DatabaseConfig[jdbcUrl=" + jdbcUrl + ", user=" + user + ", password=***, poolSize=" + poolSize + "]";
    }
}
