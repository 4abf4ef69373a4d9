package io.trellis.metadata;

/**
 * Result of {@link Registry#registerModelVersion}: the version number, and whether this call created it
 * ({@code false} when a retry found the version an earlier attempt registered).
 */
public record RegisteredVersion(int version, boolean created) {
}
