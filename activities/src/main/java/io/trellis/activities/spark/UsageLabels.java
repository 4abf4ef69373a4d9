package io.trellis.activities.spark;

import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.usage.ResourceUsage;

/**
 * What a Spark step's usage is accounted to: the model, and the environment the step served (null when it serves
 * none in particular); and the run's hard cost limit (null: none), past which the step is cancelled.
 */
public record UsageLabels(String model, String environment, Double hardLimitPerRun) {
    /** Retrains land their candidate in the first environment; their steps are accounted to it. */
    public static final String TRAINING_ENVIRONMENT = "dev";

    public UsageLabels(String model, String environment) {
        this(model, environment, null);
    }

    /**
     * One activity attempt's usage row under these labels: the Spark figures of {@code u}, the wall time given (local
     * mode: the listener's; cluster mode: the worker's, driver start-up included), {@code group} naming the Spark job
     * group (or the cluster application).
     */
    public ResourceUsageRecord row(String workflowId, String runId, String activityId, String activityType,
                                   int attempt, String step, UsageOutcome outcome, String group, ResourceUsage u,
                                   long wallMillis) {
        return new ResourceUsageRecord(workflowId, runId, activityId, activityType, attempt, step, model,
                environment, outcome, group, u.jobs(), u.tasks(), u.failedTasks(), u.executorRunMillis(), u.executorCpuNanos(),
                u.bytesRead(), u.recordsRead(), u.bytesWritten(), u.recordsWritten(), u.shuffleReadBytes(), u.shuffleWriteBytes(),
                u.peakExecutionMemoryBytes(), u.memoryByteMillis(), wallMillis, null);
    }

    public static UsageLabels training(io.trellis.spec.ModelSpec spec) {
        return new UsageLabels(spec.name(), TRAINING_ENVIRONMENT, spec.budget() == null ? null : spec.budget().hardLimitPerRun());
    }
}
