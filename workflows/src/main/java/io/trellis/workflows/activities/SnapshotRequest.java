package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.RetrainOverrides;

/** Pin and validate the model's source table; with a window in {@code overrides} (null: none), only the window's rows. */
public record SnapshotRequest(String runKey, ModelSpec spec, RetrainOverrides overrides) {
    public SnapshotRequest(String runKey, ModelSpec spec) {
        this(runKey, spec, null);
    }
}
