package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** Row of {@code model_versions}: exactly one per training run. */
@Entity(name = "ModelVersionRow")
@Table(name = "model_versions")
class ModelVersionRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "model_id", nullable = false)
    Long modelId;

    @Column(nullable = false)
    int version;

    @Column(name = "training_run_id", nullable = false)
    Long trainingRunId;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    ModelVersionStatus status;

    @Column(nullable = false)
    String algorithm;

    @Column(name = "artifact_uri")
    String artifactUri;

    @Column(name = "artifact_sha256")
    String artifactSha256;

    @Column(name = "artifact_bytes")
    Long artifactBytes;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    Map<String, Object> params;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    Map<String, Double> metrics;

    @Column(name = "champion_version")
    Integer championVersion;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "champion_metrics")
    Map<String, Double> championMetrics;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "gate_results", nullable = false)
    List<Map<String, Object>> gateResults;

    @Column(name = "code_version")
    String codeVersion;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected ModelVersionRow() {
    }

    ModelVersionRow(Long modelId, int version, Long trainingRunId, ModelVersionRegistration registration, Instant now) {
        this.modelId = modelId;
        this.version = version;
        this.trainingRunId = trainingRunId;
        this.status = registration.status();
        this.algorithm = registration.algorithm();
        this.artifactUri = registration.artifactUri();
        this.artifactSha256 = registration.artifactSha256();
        this.artifactBytes = registration.artifactBytes();
        this.params = registration.params();
        this.metrics = registration.metrics();
        this.championVersion = registration.championVersion();
        this.championMetrics = registration.championMetrics();
        this.gateResults = registration.gateResults();
        this.codeVersion = registration.codeVersion();
        this.createdAt = now;
    }

    ModelVersionRecord toRecord(String modelName, String runKey) {
        return new ModelVersionRecord(id, modelName, version, runKey, status, algorithm, artifactUri, artifactSha256,
                artifactBytes, params, metrics, championVersion, championMetrics, gateResults, codeVersion, createdAt);
    }
}
