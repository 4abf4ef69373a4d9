package io.trellis.metadata;

import java.util.Arrays;
import java.util.Locale;

/** What a principal may do. Stored lowercase with dashes ({@code ml-engineer}); the database checks the names. */
public enum PrincipalRole {
    VIEWER,
    ML_ENGINEER,
    APPROVER,
    AUDITOR,
    ADMIN;

    public String dbValue() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static PrincipalRole fromDb(String value) {
        return Arrays.stream(values()).filter(r -> r.dbValue().equals(value)).findFirst()
                .orElseThrow(() -> new IllegalStateException("Unknown role '" + value + "' in table principals"));
    }
}
