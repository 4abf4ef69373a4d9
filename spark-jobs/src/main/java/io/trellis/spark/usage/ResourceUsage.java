package io.trellis.spark.usage;

/**
 * What the Spark jobs of one job group used, summed over every task attempt that ended (successful, failed and
 * killed ones alike: a retried or cancelled task still held its slot). Times as Spark reports them: run time in
 * milliseconds, CPU time in nanoseconds.
 *
 * @param jobs                     jobs the group started
 * @param tasks                    task attempts that ended
 * @param failedTasks              of those, the ones that failed or were killed
 * @param executorRunMillis        time the tasks spent running on executors (core-milliseconds)
 * @param executorCpuNanos         CPU time the tasks used on executors
 * @param bytesRead                bytes read from storage (input)
 * @param recordsRead              rows read from storage
 * @param bytesWritten             bytes written to storage (output)
 * @param recordsWritten           rows written to storage
 * @param shuffleReadBytes         shuffle bytes read (local and remote)
 * @param shuffleWriteBytes        shuffle bytes written
 * @param peakExecutionMemoryBytes the largest peak execution memory of one task
 * @param memoryByteMillis         each task's peak execution memory times its run time, summed: the memory-time the
 *                                 group held at most
 * @param wallMillis               wall time of the work that ran the jobs (set by the caller, 0 from the listener)
 */
public record ResourceUsage(
        long jobs,
        long tasks,
        long failedTasks,
        long executorRunMillis,
        long executorCpuNanos,
        long bytesRead,
        long recordsRead,
        long bytesWritten,
        long recordsWritten,
        long shuffleReadBytes,
        long shuffleWriteBytes,
        long peakExecutionMemoryBytes,
        long memoryByteMillis,
        long wallMillis) {

    public static final ResourceUsage NONE = new ResourceUsage(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public ResourceUsage withWallMillis(long millis) {
        return new ResourceUsage(jobs, tasks, failedTasks, executorRunMillis, executorCpuNanos, bytesRead, recordsRead, bytesWritten,
                recordsWritten, shuffleReadBytes, shuffleWriteBytes, peakExecutionMemoryBytes, memoryByteMillis, millis);
    }

    /** Core-hours: executor run time, one core per task. */
    public double coreHours() {
        return executorRunMillis / 3_600_000.0;
    }

    /** GB-hours of execution memory: {@link #memoryByteMillis} in GiB-hours. */
    public double memoryGbHours() {
        return memoryByteMillis / (1024.0 * 1024 * 1024) / 3_600_000.0;
    }

    public double gbRead() {
        return bytesRead / (1024.0 * 1024 * 1024);
    }

    public double gbWritten() {
        return bytesWritten / (1024.0 * 1024 * 1024);
    }
}
