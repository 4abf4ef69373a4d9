package io.trellis.metadata;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** Row of {@code dataset_versions}. {@code kind} holds {@link DatasetKind#dbValue()}. */
@Entity(name = "DatasetVersionRow")
@Table(name = "dataset_versions")
class DatasetVersionRow {
    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    Long id;

    @Column(name = "table_path", nullable = false)
    String tablePath;

    @Column(name = "delta_version", nullable = false)
    long deltaVersion;

    @Column(name = "row_count", nullable = false)
    long rowCount;

    @Column(nullable = false)
    String kind;

    @Column(name = "ingest_key")
    String ingestKey;

    @Column(name = "created_at", nullable = false)
    Instant createdAt;

    protected DatasetVersionRow() {
    }

    DatasetVersionRow(String tablePath, long deltaVersion, long rowCount, DatasetKind kind, String ingestKey, Instant now) {
        this.tablePath = tablePath;
        this.deltaVersion = deltaVersion;
        this.rowCount = rowCount;
        this.kind = kind.dbValue();
        this.ingestKey = ingestKey;
        this.createdAt = now;
    }

    DatasetVersionRecord toRecord() {
        return new DatasetVersionRecord(id, tablePath, deltaVersion, rowCount, DatasetKind.fromDb(kind), ingestKey, createdAt);
    }
}
