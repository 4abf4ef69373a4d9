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
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** Row of {@code training_runs}. */
@Entity(name = "TrainingRunRow")
@Table(name = "training_runs")
class TrainingRunRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "run_key", nullable = false)
    String runKey;

    @Column(name = "model_id", nullable = false)
    Long modelId;

    @Column(name = "workflow_run_id")
    String workflowRunId;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    RunStatus status;

    @Column(name = "current_step")
    String currentStep;

    @Column(name = "triggered_by", nullable = false)
    String triggeredBy;

    @Column
    String reason;

    @Column(name = "spec_sha256")
    String specSha256;

    @Column(name = "code_version")
    String codeVersion;

    @Column(name = "failure_step")
    String failureStep;

    @Column(name = "failure_message")
    String failureMessage;

    @Column(name = "started_at", nullable = false)
    Instant startedAt;

    @Column(name = "finished_at")
    Instant finishedAt;

    /** The run's overrides of its spec (data window, hyperparameters); null when it trained exactly as the spec says. */
    @JdbcTypeCode(SqlTypes.JSON)
    @Column(name = "overrides")
    Map<String, Object> overrides;

    protected TrainingRunRow() {
    }

    TrainingRunRow(String runKey, Long modelId, String workflowRunId, String triggeredBy, String reason,
                   String specSha256, String codeVersion, Instant now) {
        this.runKey = runKey;
        this.modelId = modelId;
        this.workflowRunId = workflowRunId;
        this.status = RunStatus.RUNNING;
        this.triggeredBy = triggeredBy;
        this.reason = reason;
        this.specSha256 = specSha256;
        this.codeVersion = codeVersion;
        this.startedAt = now;
    }

    RunRecord toRecord(String modelName) {
        return new RunRecord(id, runKey, modelName, workflowRunId, status, currentStep, triggeredBy, reason,
                specSha256, codeVersion, failureStep, failureMessage, startedAt, finishedAt, overrides);
    }
}
