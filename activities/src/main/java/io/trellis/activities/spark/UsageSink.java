package io.trellis.activities.spark;

import io.trellis.metadata.ResourceUsageRecord;

/** Where {@link SparkStepRunner} sends what each activity attempt's Spark jobs used (PostgreSQL in the worker). */
@FunctionalInterface
public interface UsageSink {
    /** Accounting turned off: nothing is collected or recorded. */
    UsageSink NONE = r -> {};

    void record(ResourceUsageRecord usage);

    /**
     * The estimated cost of what a workflow recorded so far (every attempt of its earlier steps), for hard limits; 0
     * where nothing is priced.
     */
    default double recordedCost(String workflowId) {
        return 0;
    }

    /** The estimated cost of one attempt's usage; 0 where nothing is priced. */
    default double cost(ResourceUsageRecord usage) {
        return 0;
    }
}
