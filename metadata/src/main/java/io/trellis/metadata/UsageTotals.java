package io.trellis.metadata;

import java.time.Instant;

/** Summed resource usage of one group (a run, a model, an environment or a day and model) from the rollup views. */
public record UsageTotals(
        String key,
        String modelName,
        long runs,
        long attempts,
        long unsuccessfulAttempts,
        long tasks,
        long executorRunMs,
        long bytesRead,
        long bytesWritten,
        long shuffleReadBytes,
        long shuffleWriteBytes,
        long peakExecutionMemoryBytes,
        long wallMs,
        double coreHours,
        double memoryGbHours,
        double gbRead,
        double gbWritten,
        Instant firstRecordedAt,
        Instant lastRecordedAt) {

    /** How rollups are grouped. */
    public enum By {
        RUN, MODEL, ENVIRONMENT, DAY
    }
}
