package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code models}. Entities are package-private: callers see the records. */
@Entity(name = "ModelRow")
@Table(name = "models")
class ModelRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(nullable = false)
    String name;

    @Column(name = "spec_yaml")
    String specYaml;

    @Column(name = "spec_sha256")
    String specSha256;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    @Column(name = "updated_at", nullable = false)
    Instant updatedAt;

    protected ModelRow() {
    }

    ModelRow(String name, Instant now) {
        this.name = name;
        this.createdAt = now;
        this.updatedAt = now;
    }

    ModelRecord toRecord() {
        return new ModelRecord(id, name, specYaml, specSha256);
    }
}
