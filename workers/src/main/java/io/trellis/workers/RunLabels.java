package io.trellis.workers;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** The UTC time label that ends the workflow IDs Trellis starts, e.g. {@code promote/churn/v3/production/20261126-101500}. */
public final class RunLabels {
    private static final DateTimeFormatter LABEL = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private RunLabels() {}

    public static String of(Instant instant) {
        return LABEL.format(instant);
    }

    public static String now() {
        return of(Instant.now());
    }
}
