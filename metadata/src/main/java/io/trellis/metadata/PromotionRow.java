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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** Row of {@code promotions}: one per promotion workflow. */
@Entity(name = "PromotionRow")
@Table(name = "promotions")
class PromotionRow {
    /** The key of a stage report naming its environment. */
    static final String STAGE_ENVIRONMENT = "environment";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "promotion_key", nullable = false)
    String promotionKey;

    @Column(name = "model_id", nullable = false)
    Long modelId;

    @Column(name = "model_version_id", nullable = false)
    Long modelVersionId;

    @Column(name = "target_environment_id", nullable = false)
    Long targetEnvironmentId;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    PromotionStatus status;

    @Column(name = "requested_by", nullable = false)
    String requestedBy;

    @Column
    String reason;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column(nullable = false)
    List<Map<String, Object>> stages;

    @Column(name = "decided_by")
    String decidedBy;

    @Enumerated(EnumType.STRING)
    @Column
    Decision decision;

    @Column(name = "decision_reason")
    String decisionReason;

    @Column(name = "decided_at")
    Instant decidedAt;

    @Column
    String message;

    @Column(name = "started_at", nullable = false)
    Instant startedAt;

    @Column(name = "finished_at")
    Instant finishedAt;

    protected PromotionRow() {
    }

    PromotionRow(String promotionKey, Long modelId, Long modelVersionId, Long targetEnvironmentId, String requestedBy,
                 String reason, Instant now) {
        this.promotionKey = promotionKey;
        this.modelId = modelId;
        this.modelVersionId = modelVersionId;
        this.targetEnvironmentId = targetEnvironmentId;
        this.status = PromotionStatus.RUNNING;
        this.requestedBy = requestedBy;
        this.reason = reason;
        this.stages = new ArrayList<>();
        this.startedAt = now;
    }

    PromotionRecord toRecord(String modelName, int version, String targetEnvironment) {
        return new PromotionRecord(id, promotionKey, modelName, version, targetEnvironment, status, requestedBy, reason,
                stages == null ? List.of() : List.copyOf(stages), decidedBy, decision, decisionReason, decidedAt, message,
                startedAt, finishedAt);
    }
}
