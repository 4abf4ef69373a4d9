package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;

public record FeatureRequest(String runKey, ModelSpec spec, DatasetRef source) {}
