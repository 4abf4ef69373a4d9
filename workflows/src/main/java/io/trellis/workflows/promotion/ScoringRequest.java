package io.trellis.workflows.promotion;

/** Score the latest window of the model's source table with the version live in {@code environment}. */
public record ScoringRequest(String modelName, String environment, String requestedBy) {}
