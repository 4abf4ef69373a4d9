package io.trellis.workflows.promotion;

/** How a batch-scoring run ended: which version scored, and where its predictions are. */
public record ScoringRunResult(String runKey, String modelName, String environment, int version, BatchScoreResult scoring) {}
