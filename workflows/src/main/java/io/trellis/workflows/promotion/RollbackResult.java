package io.trellis.workflows.promotion;

/** The version live again after a rollback, and the one it replaced. */
public record RollbackResult(String modelName, String environment, int restoredVersion, Integer replacedVersion) {}
