package io.trellis.metadata;

import java.time.Instant;

/** The version that was live in {@code environment} at the instant asked about, and the pointer that made it so. */
public record LiveVersion(String modelName, String environment, int environmentOrdinal, int version, Instant validFrom,
                          Instant validTo, String deployedBy, String reason) {
}
