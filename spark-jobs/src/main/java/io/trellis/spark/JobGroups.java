package io.trellis.spark;

import java.util.function.Supplier;
import org.apache.spark.SparkContext;

/**
 * Runs work under a Spark job group on the current thread, so another thread can watch its progress
 * ({@link SparkProgress#of}) and cancel it ({@code sparkContext.cancelJobGroup(group)}); running tasks are
 * interrupted on cancellation.
 */
public final class JobGroups {
    private JobGroups() {}

    public static <T> T run(SparkContext sc, String group, String description, Supplier<T> work) {
        sc.setJobGroup(group, description, true);
        try {
            return work.get();
        } finally {
            sc.clearJobGroup();
        }
    }
}
