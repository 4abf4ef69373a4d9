package io.trellis.workflows.activities;

import io.trellis.spec.ModelSpec;

/** A registered model as a run sees it: the spec pinned at run start and the champion, if there is one. */
public record ModelDefinition(String name, ModelSpec spec, String specSha256, ChampionRef champion) {}
