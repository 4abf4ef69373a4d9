package io.trellis.workflows;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import java.time.Duration;

/** The timeouts and retry policies of Trellis's two kinds of activity, defined once for every workflow. */
public final class ActivityPolicies {
    private ActivityPolicies() {}

    /**
     * Registry (PostgreSQL) and artifact-check activities on the orchestration queue. They are short; a database
     * restart must not fail a run, so they retry with backoff for up to ten minutes. Spec, data and request
     * errors are not retried: a retry cannot fix them.
     */
    public static ActivityOptions registry(Duration startToClose) {
        return ActivityOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setStartToCloseTimeout(startToClose)
                .setScheduleToCloseTimeout(Duration.ofMinutes(10))
                .setRetryOptions(RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofSeconds(1))
                        .setBackoffCoefficient(2.0)
                        .setMaximumInterval(Duration.ofSeconds(30))
                        .setDoNotRetry(Failures.nonRetryableTypes())
                        .build())
                .build();
    }

    /**
     * Spark activities on their own queue. They can run for hours, so liveness comes from the heartbeat
     * (progress every few seconds), not from the start-to-close bound. The SDK sends heartbeats at most every
     * ~80% of the heartbeat timeout and learns of a cancellation only then, so 30 s bounds both a dead worker's
     * detection and how long a cancelled Spark job keeps running. A lost executor or a killed worker is retried
     * a few times with a growing pause; data and spec errors fail at once. Their writes are idempotent per run.
     */
    public static ActivityOptions spark(Duration startToClose) {
        return ActivityOptions.newBuilder()
                .setTaskQueue(TaskQueues.SPARK)
                .setStartToCloseTimeout(startToClose)
                .setHeartbeatTimeout(Duration.ofSeconds(30))
                .setRetryOptions(RetryOptions.newBuilder()
                        .setInitialInterval(Duration.ofSeconds(5))
                        .setBackoffCoefficient(2.0)
                        .setMaximumInterval(Duration.ofMinutes(5))
                        .setMaximumAttempts(4)
                        .setDoNotRetry(Failures.nonRetryableTypes())
                        .build())
                .build();
    }
}
