package io.trellis.metadata;

import java.util.List;

/**
 * Everything that made a model version: its record (parameters, metrics, training gate results, code
 * version, artifact), the training run (who triggered it, spec hash), every upstream node found by walking
 * the lineage graph backwards (dataset and Delta versions, feature table versions), its promotions with the
 * gates each stage passed and who requested and approved them, its deployment pointers and its audit entries.
 */
public record UpstreamLineage(
        ModelVersionRecord version,
        RunRecord run,
        List<LineageNode> upstream,
        List<PromotionRecord> promotions,
        List<DeploymentRecord> deployments,
        List<AuditEntry> history) {
}
