package io.trellis.metadata;

/**
 * The version new candidates are compared with: the live version of the highest environment that has one,
 * else the candidate of the highest environment that has one.
 */
public record ChampionRecord(
        int version, String artifactUri, String artifactSha256, Long artifactBytes, String environment, DeploymentRole role) {
}
