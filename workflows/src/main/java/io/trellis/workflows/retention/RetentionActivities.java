package io.trellis.workflows.retention;

import io.temporal.activity.ActivityInterface;

/**
 * Retention's one step, on the Spark queue (it reads Delta logs and runs VACUUM in the worker's Spark session): read the
 * pins from lineage, then (DELETE) delete unpinned model artifacts and vacuum Delta tables up to their oldest pinned
 * version, mark what went purged, and audit the run. Safe to retry: purged subjects are skipped, marks are written once.
 */
@ActivityInterface(namePrefix = "Retention")
public interface RetentionActivities {
    RetentionReport reclaim(RetentionRequest request, String retentionRun);
}
