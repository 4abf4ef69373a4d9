package io.trellis.metadata;

import java.time.Instant;

/**
 * What one activity attempt's Spark jobs used (a row of {@code resource_usage}). {@code recordedAt} is null on
 * the way in: the database stamps it.
 */
public record ResourceUsageRecord(
        String workflowId,
        String runId,
        String activityId,
        String activityType,
        int attempt,
        String step,
        String modelName,
        String environment,
        UsageOutcome outcome,
        String sparkJobGroup,
        long jobs,
        long tasks,
        long failedTasks,
        long executorRunMs,
        long executorCpuNs,
        long bytesRead,
        long recordsRead,
        long bytesWritten,
        long recordsWritten,
        long shuffleReadBytes,
        long shuffleWriteBytes,
        long peakExecutionMemoryBytes,
        long memoryByteMs,
        long wallMs,
        Instant recordedAt) {

    /** How the attempt ended. */
    public enum UsageOutcome {
        SUCCEEDED,
        FAILED,
        CANCELLED,
        /** Cancelled by Trellis because it went over its hard budget limit. */
        OVER_LIMIT
    }
}
