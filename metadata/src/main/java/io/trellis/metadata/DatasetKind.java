package io.trellis.metadata;

import java.util.Locale;

/** What a recorded Delta table version holds. Stored lowercase ({@code raw}, {@code features}, {@code predictions}). */
public enum DatasetKind {
    RAW,
    FEATURES,
    PREDICTIONS;

    String dbValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    static DatasetKind fromDb(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT));
    }
}
