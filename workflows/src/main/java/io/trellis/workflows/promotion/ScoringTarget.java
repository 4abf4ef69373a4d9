package io.trellis.workflows.promotion;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ChampionRef;

/** What a batch-scoring run uses: the model's spec and the version live in the environment at the run's start. */
public record ScoringTarget(ModelSpec spec, ChampionRef live) {}
