package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;

public record TrainRequest(String runKey, ModelSpec spec, DatasetRef features) {}
