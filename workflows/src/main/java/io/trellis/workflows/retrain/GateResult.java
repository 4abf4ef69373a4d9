package io.trellis.workflows.retrain;

/**
 * One gate, recorded with what was observed and what was required.
 * {@code observed} is null when the gate could not be evaluated (e.g. no champion); {@code passed} says how
 * it was then treated.
 */
public record GateResult(String gate, String metric, Double observed, double threshold, boolean passed, String detail) {}
