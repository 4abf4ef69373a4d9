package io.trellis.workflows.promotion;

/** Promote a registered version towards {@code targetEnvironment}, through every environment before it. */
public record PromotionRequest(String modelName, int version, String targetEnvironment, String requestedBy, String reason) {}
