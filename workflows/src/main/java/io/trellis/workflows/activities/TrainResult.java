package io.trellis.workflows.activities;

import java.util.Map;

/** The fitted pipeline, already in the artifact store, and the effective parameters that made it. */
public record TrainResult(ArtifactRef artifact, String algorithm, Map<String, String> params, long trainRows, long trainMillis) {}
