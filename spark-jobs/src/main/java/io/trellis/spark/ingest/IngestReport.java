package io.trellis.spark.ingest;

/**
 * The commit an ingest made, or found: {@code skipped} when the same drop (same {@code ingestKey}) had
 * already been committed at {@code deltaVersion}. {@code rowCount} is the rows that commit appended.
 */
public record IngestReport(String tablePath, long deltaVersion, long rowCount, String ingestKey, boolean skipped) {}
