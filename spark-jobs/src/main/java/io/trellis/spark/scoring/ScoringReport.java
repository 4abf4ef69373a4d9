package io.trellis.spark.scoring;

/**
 * What a batch scoring run appended to the predictions table (or, on a retry, had already appended:
 * {@code committed == false}): the commit's version, the rows scored, the window's inclusive bounds (null for the
 * whole table), the source version read and the wall time of this call.
 */
public record ScoringReport(
        String predictionsTable,
        long predictionsVersion,
        long rows,
        String windowFrom,
        String windowTo,
        long sourceVersion,
        long millis,
        boolean committed) {}
