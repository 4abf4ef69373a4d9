package io.trellis.workflows.activities;

/** One pinned version of a Delta table: what lineage records and what time travel reads back. */
public record DatasetRef(String tablePath, long version, long rowCount) {}
