package io.trellis.spark.evaluate;

import java.util.Map;

/**
 * Metrics (keyed by {@code Metric.key()}) of the candidate and, when one was given, the champion on the same
 * holdout rows. {@code champion} is null when there is no champion or it could not score these rows; then
 * {@code championError} says why.
 */
public record EvaluationReport(Map<String, Double> candidate, Map<String, Double> champion, String championError, long holdoutRows) {}
