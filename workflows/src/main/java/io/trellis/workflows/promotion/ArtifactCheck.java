package io.trellis.workflows.promotion;

/** The artifact's checksum now against the one recorded when it was stored. */
public record ArtifactCheck(String expectedSha256, String observedSha256, boolean matches, String detail) {}
