package io.trellis.workflows.activities;

/** A stored model artifact: where it lives, its SHA-256 (checked on every fetch) and its size. */
public record ArtifactRef(String uri, String sha256, long bytes) {}
