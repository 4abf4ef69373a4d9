package io.trellis.workflows.activities;

import java.util.Map;

/**
 * Holdout metrics keyed by {@code Metric.key()}. {@code champion} is null when there is no champion or it
 * could not score these rows; {@code championNote} then says why.
 */
public record EvaluationResult(
        Map<String, Double> candidate,
        Integer championVersion,
        Map<String, Double> champion,
        String championNote,
        long holdoutRows) {}
