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
import org.hibernate.annotations.Immutable;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** Row of {@code audit_log}. Immutable: the database rejects UPDATE and DELETE, so Hibernate must never issue them. */
@Entity(name = "AuditLogRow")
@Table(name = "audit_log")
@Immutable
class AuditLogRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "occurred_at", nullable = false)
    Instant occurredAt;

    @Column(nullable = false)
    String actor;

    @Column(nullable = false)
    String action;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    AuditOutcome outcome;

    @Column(name = "model_name")
    String modelName;

    @Column(name = "model_version")
    Integer modelVersion;

    @Column(name = "run_key")
    String runKey;

    @Column
    String message;

    @JdbcTypeCode(SqlTypes.JSON)
    @Column
    Map<String, Object> details;

    protected AuditLogRow() {
    }

    AuditLogRow(Instant occurredAt, String actor, String action, AuditOutcome outcome, String modelName,
                Integer modelVersion, String runKey, String message, Map<String, Object> details) {
        this.occurredAt = occurredAt;
        this.actor = actor;
        this.action = action;
        this.outcome = outcome;
        this.modelName = modelName;
        this.modelVersion = modelVersion;
        this.runKey = runKey;
        this.message = message;
        this.details = details;
    }

    AuditEntry toEntry() {
        return new AuditEntry(id, occurredAt, actor, action, outcome, modelName, modelVersion, runKey, message, details);
    }
}
