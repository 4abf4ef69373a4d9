package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** Row of {@code environments}: a step of a model's promotion path, ordered by {@code ordinal}. */
@Entity(name = "EnvironmentRow")
@Table(name = "environments")
class EnvironmentRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "model_id", nullable = false)
    Long modelId;

    @Column(nullable = false)
    String name;

    @Column(nullable = false)
    int ordinal;

    protected EnvironmentRow() {
    }

    EnvironmentRow(Long modelId, String name, int ordinal) {
        this.modelId = modelId;
        this.name = name;
        this.ordinal = ordinal;
    }
}
