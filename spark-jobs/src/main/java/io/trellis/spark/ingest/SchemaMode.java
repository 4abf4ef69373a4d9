package io.trellis.spark.ingest;

/** What an ingest does when a drop's columns differ from the table's. */
public enum SchemaMode {
    /** Reject the drop, naming every differing column (the default). */
    ENFORCE,
    /** Add the drop's new columns to the table (Delta mergeSchema); columns the drop lacks become null. Types never change. */
    EVOLVE
}
