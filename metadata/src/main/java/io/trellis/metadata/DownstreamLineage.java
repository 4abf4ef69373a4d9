package io.trellis.metadata;

import java.util.List;

/**
 * Everything a dataset fed: the dataset versions it started from (all recorded versions of {@code tablePath},
 * or those up to {@code upToDeltaVersion}), then every run, model version and predictions table version
 * reached through the lineage graph, and every deployment pointer (environment) those model versions held.
 */
public record DownstreamLineage(
        String tablePath,
        Long upToDeltaVersion,
        List<LineageNode> nodes,
        List<DeploymentRecord> deployments) {

    public List<LineageNode> ofKind(String kind) {
        return nodes.stream().filter(n -> n.kind().equals(kind)).toList();
    }
}
