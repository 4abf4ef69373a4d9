package io.trellis.workflows.promotion;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;

/** Score the latest window with the candidate and, on the same rows, the production model (null if none). */
public record ShadowRequest(String runKey, ModelSpec spec, String environment, int candidateVersion, ArtifactRef candidate,
                            ChampionRef production) {}
