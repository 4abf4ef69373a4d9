package io.trellis.activities.spark;

import io.trellis.metadata.ResourceUsageRecord;

/** Where {@link SparkStepRunner} sends what each activity attempt's Spark jobs used (PostgreSQL in the worker). */
@FunctionalInterface
public interface UsageSink {
    /** Accounting turned off: nothing is collected or recorded. */
    UsageSink NONE = r -> {};

    void record(ResourceUsageRecord usage);
}
