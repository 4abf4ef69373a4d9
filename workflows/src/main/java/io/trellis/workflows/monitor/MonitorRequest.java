package io.trellis.workflows.monitor;

/** Monitor a model in an environment (null: the spec's {@code monitoring.environment}); {@code requestedBy} is audited. */
public record MonitorRequest(String modelName, String environment, String requestedBy) {}
