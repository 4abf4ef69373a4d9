package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.RetrainOverrides;

/** Build the feature table from the pinned source; with a window in {@code overrides} (null: none), from its rows only. */
public record FeatureRequest(String runKey, ModelSpec spec, DatasetRef source, RetrainOverrides overrides) {
    public FeatureRequest(String runKey, ModelSpec spec, DatasetRef source) {
        this(runKey, spec, source, null);
    }
}
