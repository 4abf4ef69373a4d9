package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code lineage_edges}: {@code from} fed or produced {@code to}. */
@Entity(name = "LineageEdgeRow")
@Table(name = "lineage_edges")
class LineageEdgeRow {
    static final String DATASET_VERSION = "dataset_version";
    static final String TRAINING_RUN = "training_run";
    static final String MODEL_VERSION = "model_version";
    /** A promotion (migration V8): linked to the predictions version its shadow run wrote. */
    static final String PROMOTION = "promotion";
    static final String PRODUCED = "produced";

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "from_kind", nullable = false)
    String fromKind;

    @Column(name = "from_id", nullable = false)
    long fromId;

    @Column(name = "to_kind", nullable = false)
    String toKind;

    @Column(name = "to_id", nullable = false)
    long toId;

    @Column(nullable = false)
    String relation;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected LineageEdgeRow() {
    }

    LineageEdgeRow(String fromKind, long fromId, String toKind, long toId, String relation, Instant now) {
        this.fromKind = fromKind;
        this.fromId = fromId;
        this.toKind = toKind;
        this.toId = toId;
        this.relation = relation;
        this.createdAt = now;
    }
}
