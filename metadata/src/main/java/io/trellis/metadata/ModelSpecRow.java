package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code model_specs}: one per distinct spec content ever applied to a model. */
@Entity(name = "ModelSpecRow")
@Table(name = "model_specs")
class ModelSpecRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "model_id", nullable = false)
    Long modelId;

    @Column(name = "spec_sha256", nullable = false)
    String specSha256;

    @Column(name = "spec_yaml", nullable = false)
    String specYaml;

    @Column(name = "applied_by", nullable = false)
    String appliedBy;

    @Column(name = "applied_at", nullable = false)
    Instant appliedAt;

    protected ModelSpecRow() {
    }

    ModelSpecRow(Long modelId, String specSha256, String specYaml, String appliedBy, Instant appliedAt) {
        this.modelId = modelId;
        this.specSha256 = specSha256;
        this.specYaml = specYaml;
        this.appliedBy = appliedBy;
        this.appliedAt = appliedAt;
    }
}
