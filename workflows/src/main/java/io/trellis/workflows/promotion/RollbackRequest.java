package io.trellis.workflows.promotion;

/** Restore the previous live version of an environment, or {@code toVersion} when given; the reason is required. */
public record RollbackRequest(String modelName, String environment, Integer toVersion, String requestedBy, String reason) {}
