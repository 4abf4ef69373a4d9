package io.trellis.workflows.promotion;

import io.trellis.workflows.activities.DatasetRef;

/** The predictions table version a scoring run appended, the window it read (null bounds: whole table). */
public record BatchScoreResult(DatasetRef predictions, long rows, String windowFrom, String windowTo, String sourceTable,
                               long sourceVersion, long millis) {}
