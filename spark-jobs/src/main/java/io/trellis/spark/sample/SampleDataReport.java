package io.trellis.spark.sample;

/** What a sample-data run did: the table's version afterwards and how many batches it appended or found present. */
public record SampleDataReport(String tablePath, long tableVersion, long rowsWritten, int batchesWritten, int batchesSkipped) {}
