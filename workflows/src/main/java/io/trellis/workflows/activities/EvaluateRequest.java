package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;

/** Score the holdout with the candidate and, on the same rows, the champion (null when there is none). */
public record EvaluateRequest(String runKey, ModelSpec spec, DatasetRef features, ArtifactRef candidate, ChampionRef champion) {}
