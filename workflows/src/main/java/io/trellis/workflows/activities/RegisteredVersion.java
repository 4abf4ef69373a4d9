package io.trellis.workflows.activities;

/** The version number the registry gave a run's model, and whether this call created it. */
public record RegisteredVersion(int version, boolean created) {}
