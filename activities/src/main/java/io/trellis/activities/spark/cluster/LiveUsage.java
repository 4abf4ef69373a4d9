package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import io.trellis.spark.usage.ResourceUsage;

/**
 * What a running application used so far, estimated from its driver's REST status API (client deploy mode): the jobs of
 * {@code /api/v1/applications/{id}/jobs} and the stage attempts of {@code /api/v1/applications/{id}/stages}, mapped onto
 * the {@link ResourceUsage} fields the job's own listener fills ({@link io.trellis.spark.usage.ResourceUsageListener}), so
 * that the same price sheet prices both.
 *
 * <p>Spark sums each stage attempt's task metrics as its tasks end (and, for running tasks, as executor heartbeats bring
 * their metrics in): executor run and CPU time, input and output bytes and records, shuffle bytes read and written map
 * one to one. Two fields are estimates, because a stage carries sums, not per-task figures: its
 * {@code peakExecutionMemory} is the sum of its tasks' peaks, so the largest peak of one task is taken as the largest
 * per-stage mean (sum / tasks ended), and memory-time (each task's peak times its run time) as, per stage, the peak sum
 * times the run-time sum over the tasks ended — exact when a stage's tasks are alike. Unlike the report's usage, which
 * counts the job's Spark job group only, this counts every stage of the application (it is the driver's own
 * application), so its exact fields can only come out higher.
 */
final class LiveUsage {
    private LiveUsage() {}

    /** The estimate from the {@code jobs} and {@code stages} arrays (either may be missing or not an array: nothing). */
    static ResourceUsage estimate(JsonNode jobs, JsonNode stages) {
        long jobCount = jobs != null && jobs.isArray() ? jobs.size() : 0;
        long tasks = 0;
        long failedTasks = 0;
        long runMillis = 0;
        long cpuNanos = 0;
        long bytesRead = 0;
        long recordsRead = 0;
        long bytesWritten = 0;
        long recordsWritten = 0;
        long shuffleRead = 0;
        long shuffleWrite = 0;
        long peak = 0;
        double memoryByteMillis = 0;
        if (stages != null && stages.isArray()) {
            for (JsonNode stage : stages) {
                long failed = stage.path("numFailedTasks").asLong() + stage.path("numKilledTasks").asLong();
                long ended = stage.path("numCompleteTasks").asLong() + failed;
                long run = stage.path("executorRunTime").asLong();
                long peakSum = stage.path("peakExecutionMemory").asLong();
                tasks += ended;
                failedTasks += failed;
                runMillis += run;
                cpuNanos += stage.path("executorCpuTime").asLong();
                bytesRead += stage.path("inputBytes").asLong();
                recordsRead += stage.path("inputRecords").asLong();
                bytesWritten += stage.path("outputBytes").asLong();
                recordsWritten += stage.path("outputRecords").asLong();
                shuffleRead += stage.path("shuffleReadBytes").asLong();
                shuffleWrite += stage.path("shuffleWriteBytes").asLong();
                if (ended > 0) {
                    peak = Math.max(peak, peakSum / ended);
                    memoryByteMillis += (double) peakSum * run / ended;
                } else {
                    // Running tasks' metrics only (from heartbeats): count the memory-time as one task's.
                    peak = Math.max(peak, peakSum);
                    memoryByteMillis += (double) peakSum * run;
                }
            }
        }
        return new ResourceUsage(jobCount, tasks, failedTasks, runMillis, cpuNanos, bytesRead, recordsRead, bytesWritten, recordsWritten,
                shuffleRead, shuffleWrite, peak, (long) Math.min(Long.MAX_VALUE, memoryByteMillis), 0);
    }
}
