package io.trellis.activities.spark;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.trellis.activities.ActivityErrors;
import io.trellis.activities.lineage.LineageDataset;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.activities.lineage.StepLineage;
import io.trellis.spark.SparkProgress;
import io.trellis.workflows.activities.SparkStepProgress;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.spark.usage.ResourceUsageListener;
import io.temporal.failure.ApplicationFailure;
import io.trellis.spec.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one Spark step for an activity: the work runs on its own thread inside a Spark job group named after
 * the activity attempt, while the activity thread heartbeats the group's progress (jobs, stages, tasks) to
 * Temporal every couple of seconds. When Temporal cancels the activity (the workflow was cancelled, or the
 * heartbeat timed out) the job group is cancelled in Spark, so no orphan job keeps writing.
 *
 * <p>The cancellation also rejects the group's future jobs: the step's thread is interrupted but may still be
 * between two jobs (driver-side planning, a Delta commit) and would otherwise start one more job that nobody
 * waits for. That makes a group unusable once cancelled, so its name is unique per activity attempt (workflow
 * run and activity ID included).
 *
 * <p>With a {@link UsageSink}, what the group's jobs used ({@link ResourceUsageListener}) is recorded once per attempt,
 * successful, failed or cancelled alike: retries cost too.
 *
 * <p>With a {@link StepLineage} the step also emits its OpenLineage events ({@link OpenLineageEmitter}): START before the
 * work, then COMPLETE with the inputs and outputs read from the result, FAIL when the work throws (or goes over its hard
 * cost limit), ABORT when Temporal cancels the activity.
 */
final class SparkStepRunner {
    private static final long HEARTBEAT_MILLIS = 2000;
    private static final long LIMIT_CHECK_MILLIS = 200;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private static final Logger log = LoggerFactory.getLogger(SparkStepRunner.class);
    /** How long to wait for the listener bus (and a cancelled group's killed tasks) before reading an attempt's usage. */
    private static final Duration USAGE_SETTLE = Duration.ofSeconds(10);
    /** How long a step waits for its usage row to be written before going on and leaving the write in the background. */
    private static final Duration USAGE_WRITE_WAIT = Duration.ofSeconds(5);

    private final SparkSession spark;
    private final OpenLineageEmitter openLineage;
    private final UsageSink usageSink;
    private final ResourceUsageListener usage;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "trellis-spark-step-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    SparkStepRunner(SparkSession spark) {
        this(spark, OpenLineageEmitter.disabled(), UsageSink.NONE);
    }

    /** With OpenLineage events and accounting: each attempt's usage (whatever its outcome) goes to {@code usageSink}. */
    SparkStepRunner(SparkSession spark, OpenLineageEmitter openLineage, UsageSink usageSink) {
        this.spark = spark;
        this.openLineage = openLineage;
        this.usageSink = usageSink;
        this.usage = usageSink == UsageSink.NONE ? null : ResourceUsageListener.on(spark.sparkContext());
    }

    <T> T run(String step, Function<SparkSession, T> body) {
        return run(step, (StepLineage<T>) null, defaultLabels(), body);
    }

    <T> T run(String step, StepLineage<T> lineage, Function<SparkSession, T> body) {
        return run(step, lineage, defaultLabels(), body);
    }

    <T> T run(String step, UsageLabels labels, Function<SparkSession, T> body) {
        return run(step, (StepLineage<T>) null, labels, body);
    }

    /**
     * Runs the step, emits its OpenLineage events when {@code lineage} is given, and records what its Spark jobs used
     * against {@code labels}.
     */
    <T> T run(String step, StepLineage<T> lineage, UsageLabels labels, Function<SparkSession, T> body) {
        ActivityInfo info = Activity.getExecutionContext().getInfo();
        String group = groupOf(info);
        OpenLineageEmitter.Step events = lineage == null ? null : openLineage.start(new OpenLineageEmitter.Attempt(info.getWorkflowId(),
                info.getRunId(), info.getWorkflowType(), info.getActivityId(), info.getActivityType(), info.getAttempt()),
                lineage.runKey() != null ? lineage.runKey() : info.getWorkflowId() + "#" + info.getRunId(),
                lineage.modelName(), lineage.startInputs());
        List<LineageDataset> startInputs = lineage == null ? List.of() : lineage.startInputs();
        long started = System.nanoTime();
        UsageOutcome outcome = UsageOutcome.FAILED;
        try {
            T result = runInGroup(step, body, group, hardLimit(info, group, step, labels));
            outcome = UsageOutcome.SUCCEEDED;
            if (events != null) {
                complete(events, lineage, result);
            }
            return result;
        } catch (ActivityCompletionException cancelled) {
            outcome = UsageOutcome.CANCELLED;
            if (events != null) {
                events.abort(startInputs);
            }
            throw cancelled;
        } catch (OverLimit over) {
            outcome = UsageOutcome.OVER_LIMIT;
            if (events != null) {
                events.fail(over, startInputs);
            }
            throw ApplicationFailure.newNonRetryableFailure(over.getMessage(), ErrorCode.BUDGET_EXCEEDED.name());
        } catch (StepFailed failed) {
            if (events != null) {
                events.fail(failed.getCause(), startInputs);
            }
            throw ActivityErrors.translate(failed.getCause());
        } catch (RuntimeException interruptedOrOther) {
            if (events != null) {
                events.abort(startInputs);
            }
            throw interruptedOrOther;
        } finally {
            if (usage != null) {
                recordUsage(info, group, step, labels, outcome, (System.nanoTime() - started) / 1_000_000);
            }
        }
    }

    private static UsageLabels defaultLabels() {
        return new UsageLabels(modelOf(Activity.getExecutionContext().getInfo().getWorkflowId()), null);
    }

    private static <T> void complete(OpenLineageEmitter.Step events, StepLineage<T> lineage, T result) {
        List<LineageDataset> inputs;
        List<LineageDataset> outputs;
        try {
            inputs = lineage.inputs().apply(result);
            outputs = lineage.outputs().apply(result);
        } catch (RuntimeException e) {
            // Describing the step must not fail it: the missing COMPLETE shows in `trellis lineage events`.
            log.warn("OpenLineage COMPLETE event not built: {}", e.toString());
            return;
        }
        events.complete(inputs, outputs);
    }

    /**
     * The check of the run's hard limit, or null without one: what the workflow's earlier attempts cost (read once) plus
     * what this attempt's finished tasks cost so far.
     */
    private Supplier<String> hardLimit(ActivityInfo info, String group, String step, UsageLabels labels) {
        Double limit = labels.hardLimitPerRun();
        if (limit == null || usage == null) {
            return null;
        }
        double before;
        try {
            before = usageSink.recordedCost(info.getWorkflowId());
        } catch (RuntimeException e) {
            // Like recording, enforcement must not fail a step on its own: without the earlier cost, no limit applies.
            log.warn("Hard limit of {} not enforced: the run's recorded cost could not be read: {}", group, e.toString());
            return null;
        }
        return () -> {
            double now = before + usageSink.cost(record(info, group, step, labels, UsageOutcome.SUCCEEDED, usage.current(group)));
            return now <= limit ? null : String.format(Locale.ROOT, "%s cancelled: run %s reached an estimated cost of %.6f, over the"
                    + " hard limit of %.6f per run (budget.hardLimitPerRun of %s); its Spark jobs were cancelled before"
                    + " committing. Raise the limit in the spec, or reduce the input.", step, info.getWorkflowId(), now, limit,
                    labels.model());
        };
    }

    private static ResourceUsageRecord record(ActivityInfo info, String group, String step, UsageLabels labels, UsageOutcome outcome,
                                              ResourceUsage u) {
        return labels.row(info.getWorkflowId(), info.getRunId(), info.getActivityId(), info.getActivityType(), info.getAttempt(),
                step, outcome, group, u, u.wallMillis());
    }

    private static String groupOf(ActivityInfo info) {
        return info.getWorkflowId() + "/" + info.getRunId() + "/" + info.getActivityType() + "#" + info.getActivityId()
                + "/attempt-" + info.getAttempt();
    }

    /** Workflow ids read {@code kind/model/...}; the model is the second part. */
    private static String modelOf(String workflowId) {
        String[] parts = workflowId.split("/");
        return parts.length >= 2 ? parts[1] : workflowId;
    }

    /**
     * Records the attempt's usage; never fails the step (accounting must not cost a retrain its result). A
     * cancelled group's tasks end (killed) after the cancellation: wait, within bounds, until none runs.
     */
    private void recordUsage(ActivityInfo info, String group, String step, UsageLabels labels, UsageOutcome outcome, long wallMillis) {
        try {
            long deadline = System.nanoTime() + USAGE_SETTLE.toNanos();
            while (outcome != UsageOutcome.SUCCEEDED && SparkProgress.of(spark.sparkContext(), group).jobsRunning() > 0
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (!usage.awaitEvents(USAGE_SETTLE)) {
                log.warn("Spark's listener bus did not drain within {}: the usage of {} may miss its last tasks", USAGE_SETTLE, group);
            }
            ResourceUsageRecord attempt = record(info, group, step, labels, outcome, usage.take(group).withWallMillis(wallMillis));
            // Like the OpenLineage events: a slow or unreachable database must not hold the activity past its heartbeat
            // timeout (the step's result would be lost and the step rerun); the write finishes in the background.
            Future<?> write = pool.submit(() -> {
                try {
                    usageSink.record(attempt);
                } catch (RuntimeException e) {
                    log.warn("Resource usage of {} not recorded: {}", group, e.toString());
                }
            });
            try {
                write.get(USAGE_WRITE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException slow) {
                log.warn("Resource usage of {} is taking over {} s to record; the step goes on, it is recorded in the background",
                        group, USAGE_WRITE_WAIT.toSeconds());
            } catch (ExecutionException unexpected) {
                log.warn("Resource usage of {} not recorded: {}", group, unexpected.getCause().toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("Resource usage of {} not recorded: interrupted", group);
        } catch (RuntimeException e) {
            log.warn("Resource usage of {} not recorded: {}", group, e.toString());
        }
    }

    private <T> T runInGroup(String step, Function<SparkSession, T> body, String group, Supplier<String> overLimit) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        ActivityInfo info = ctx.getInfo();
        long started = System.nanoTime();
        Future<T> future = pool.submit(() -> {
            spark.sparkContext().setJobGroup(group, step + " for " + info.getWorkflowId(), true);
            try {
                return body.apply(spark);
            } finally {
                spark.sparkContext().clearJobGroup();
            }
        });
        // With a hard limit, usage is checked more often than the heartbeat: a job over it must stop before it commits.
        long poll = overLimit == null ? HEARTBEAT_MILLIS : LIMIT_CHECK_MILLIS;
        long lastBeat = System.nanoTime();
        while (true) {
            try {
                return future.get(poll, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillRunning) {
                String over = overLimit == null ? null : overLimit.get();
                if (over != null) {
                    spark.sparkContext().cancelJobGroupAndFutureJobs(group);
                    future.cancel(true);
                    throw new OverLimit(over);
                }
                if (System.nanoTime() - lastBeat < TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS)) {
                    continue;
                }
                lastBeat = System.nanoTime();
                SparkProgress p = SparkProgress.of(spark.sparkContext(), group);
                try {
                    ctx.heartbeat(new SparkStepProgress(step, p.jobsDone(), p.jobsRunning(), p.stagesDone(), p.stagesTotal(),
                            p.tasksDone(), p.tasksTotal(), (System.nanoTime() - started) / 1_000_000));
                } catch (ActivityCompletionException cancelled) {
                    spark.sparkContext().cancelJobGroupAndFutureJobs(group);
                    future.cancel(true);
                    throw cancelled;
                }
            } catch (ExecutionException failed) {
                throw new StepFailed(failed.getCause());
            } catch (InterruptedException interrupted) {
                spark.sparkContext().cancelJobGroupAndFutureJobs(group);
                future.cancel(true);
                Thread.currentThread().interrupt();
                throw ActivityErrors.translate(interrupted);
            }
        }
    }

    /** The step's own work threw {@link #getCause()}; translated for Temporal after its FAIL event is emitted. */
    private static final class StepFailed extends RuntimeException {
        StepFailed(Throwable cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }

    /** The step was cancelled because the run went over its hard cost limit. */
    private static final class OverLimit extends RuntimeException {
        OverLimit(String message) {
            super(message, null, false, false);
        }
    }
}
