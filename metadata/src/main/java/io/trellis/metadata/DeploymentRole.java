package io.trellis.metadata;

import java.util.Locale;

/** The two pointers an environment holds. Stored lowercase ({@code candidate}, {@code live}). */
public enum DeploymentRole {
    CANDIDATE,
    LIVE;

    String dbValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    static DeploymentRole fromDb(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
