package io.trellis.spark.monitor;

import java.util.List;
import java.util.Map;

/**
 * One window's distribution, as counts in the reference's bins: per feature the fine-bin counts of its non-null
 * values and its nulls (absent from {@code features} when the column is missing); the live model's scores in
 * {@value DriftJob#SCORE_BINS} equal-width bins on [0, 1], and among them the rows whose label is known, by class.
 * {@code scored} is false when the window has no scores (a feature column is missing, or nothing to score with);
 * {@code scoresFrom} says where the scores came from (the predictions table's run, or the live model re-scoring the
 * window), null when unscored.
 */
public record WindowProfile(long rows, Map<String, FeatureCounts> features, boolean scored, long[] scores,
                            long[] positives, long[] negatives, String windowFrom, String windowTo, List<String> findings,
                            String scoresFrom) {

    public record FeatureCounts(long[] counts, long nulls) {
        public long nonNull() {
            return DriftStatistics.total(counts);
        }
    }
}
