package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** Row of {@code validation_reports}: at most one per training run. */
@Entity(name = "ValidationReportRow")
@Table(name = "validation_reports")
class ValidationReportRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "training_run_id", nullable = false)
    Long trainingRunId;

    @Column(name = "dataset_version_id", nullable = false)
    Long datasetVersionId;

    @Column(nullable = false)
    boolean passed;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    Map<String, Object> report;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected ValidationReportRow() {
    }

    ValidationReportRow(Long trainingRunId, Long datasetVersionId, boolean passed, Map<String, Object> report, Instant now) {
        this.trainingRunId = trainingRunId;
        this.datasetVersionId = datasetVersionId;
        this.passed = passed;
        this.report = report;
        this.createdAt = now;
    }

    ValidationRecord toRecord(String runKey) {
        return new ValidationRecord(runKey, datasetVersionId, passed, report, createdAt);
    }
}
