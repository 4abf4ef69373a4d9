package io.trellis.metadata;

import java.time.Instant;

/**
 * A model version that wrote a predictions table version: a batch scoring run, or one of the two models of a promotion's
 * shadow run ({@code promotionKey} names it; null for batch scoring).
 */
public record PredictionProducer(String predictionsTable, long deltaVersion, long rowCount, String modelName, int version,
                                 Instant recordedAt, String promotionKey) {
}
