package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;

public record SnapshotRequest(String runKey, ModelSpec spec) {}
