package io.trellis.workflows.promotion;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ChampionRef;

public record BatchScoreRequest(String runKey, ModelSpec spec, String environment, ChampionRef live) {}
