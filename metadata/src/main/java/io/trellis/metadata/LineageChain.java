package io.trellis.metadata;

import java.util.List;

/**
 * Where a model version came from and where it went: the run that trained it, the dataset versions that
 * fed that run, every deployment pointer it has held, and the audit entries about it (approvals, promotions).
 */
public record LineageChain(
        ModelVersionRecord version,
        RunRecord run,
        List<LineageInput> inputs,
        List<DeploymentRecord> deployments,
        List<AuditEntry> history) {
}
