package io.trellis.metadata;

import java.time.Instant;

/** The model version that wrote a predictions table version (a batch scoring run). */
public record PredictionProducer(String predictionsTable, long deltaVersion, long rowCount, String modelName, int version,
                                 Instant recordedAt) {
}
