package io.trellis.workflows.activities;

/** The version a challenger is compared against: what is live (or the current candidate) and its artifact. */
public record ChampionRef(int version, String environment, ArtifactRef artifact) {}
