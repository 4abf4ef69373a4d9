package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code deployments}: a pointer, open while {@code validTo} is null. {@code role} holds {@link DeploymentRole#dbValue()}. */
@Entity(name = "DeploymentRow")
@Table(name = "deployments")
class DeploymentRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "environment_id", nullable = false)
    Long environmentId;

    @Column(name = "model_version_id", nullable = false)
    Long modelVersionId;

    @Column(nullable = false)
    String role;

    @Column(name = "valid_from", nullable = false)
    Instant validFrom;

    @Column(name = "valid_to")
    Instant validTo;

    @Column(name = "deployed_by", nullable = false)
    String deployedBy;

    @Column
    String reason;

    @Column(name = "run_key")
    String runKey;

    protected DeploymentRow() {
    }

    DeploymentRow(Long environmentId, Long modelVersionId, DeploymentRole role, Instant validFrom,
                  String deployedBy, String reason, String runKey) {
        this.environmentId = environmentId;
        this.modelVersionId = modelVersionId;
        this.role = role.dbValue();
        this.validFrom = validFrom;
        this.deployedBy = deployedBy;
        this.reason = reason;
        this.runKey = runKey;
    }
}
