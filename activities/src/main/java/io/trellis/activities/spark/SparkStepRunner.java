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
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.spark.sql.SparkSession;

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
 * <p>With a {@link StepLineage} the step also emits its OpenLineage events ({@link OpenLineageEmitter}): START before the
 * work, then COMPLETE with the inputs and outputs read from the result, FAIL when the work throws, ABORT when Temporal
 * cancels the activity.
 */
final class SparkStepRunner {
    private static final long HEARTBEAT_MILLIS = 2000;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final SparkSession spark;
    private final OpenLineageEmitter openLineage;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "trellis-spark-step-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    SparkStepRunner(SparkSession spark, OpenLineageEmitter openLineage) {
        this.spark = spark;
        this.openLineage = openLineage;
    }

    <T> T run(String step, StepLineage<T> lineage, Function<SparkSession, T> body) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        ActivityInfo info = ctx.getInfo();
        OpenLineageEmitter.Step events = lineage == null ? null : openLineage.start(new OpenLineageEmitter.Attempt(info.getWorkflowId(),
                info.getRunId(), info.getWorkflowType(), info.getActivityId(), info.getActivityType(), info.getAttempt()),
                lineage.runKey() != null ? lineage.runKey() : info.getWorkflowId() + "#" + info.getRunId(),
                lineage.modelName(), lineage.startInputs());
        List<LineageDataset> startInputs = lineage == null ? List.of() : lineage.startInputs();
        String group = info.getWorkflowId() + "/" + info.getRunId() + "/" + info.getActivityType() + "#" + info.getActivityId()
                + "/attempt-" + info.getAttempt();
        long started = System.nanoTime();
        Future<T> future = pool.submit(() -> {
            spark.sparkContext().setJobGroup(group, step + " for " + info.getWorkflowId(), true);
            try {
                return body.apply(spark);
            } finally {
                spark.sparkContext().clearJobGroup();
            }
        });
        while (true) {
            try {
                T result = future.get(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
                if (events != null) {
                    complete(events, lineage, result);
                }
                return result;
            } catch (TimeoutException stillRunning) {
                SparkProgress p = SparkProgress.of(spark.sparkContext(), group);
                try {
                    ctx.heartbeat(new SparkStepProgress(step, p.jobsDone(), p.jobsRunning(), p.stagesDone(), p.stagesTotal(),
                            p.tasksDone(), p.tasksTotal(), (System.nanoTime() - started) / 1_000_000));
                } catch (ActivityCompletionException cancelled) {
                    spark.sparkContext().cancelJobGroupAndFutureJobs(group);
                    future.cancel(true);
                    if (events != null) {
                        events.abort(startInputs);
                    }
                    throw cancelled;
                }
            } catch (ExecutionException failed) {
                if (events != null) {
                    events.fail(failed.getCause(), startInputs);
                }
                throw ActivityErrors.translate(failed.getCause());
            } catch (InterruptedException interrupted) {
                spark.sparkContext().cancelJobGroupAndFutureJobs(group);
                future.cancel(true);
                if (events != null) {
                    events.abort(startInputs);
                }
                Thread.currentThread().interrupt();
                throw ActivityErrors.translate(interrupted);
            }
        }
    }

    private static <T> void complete(OpenLineageEmitter.Step events, StepLineage<T> lineage, T result) {
        List<LineageDataset> inputs;
        List<LineageDataset> outputs;
        try {
            inputs = lineage.inputs().apply(result);
            outputs = lineage.outputs().apply(result);
        } catch (RuntimeException e) {
            // Describing the step must not fail it: the missing COMPLETE shows in `trellis lineage events`.
            org.slf4j.LoggerFactory.getLogger(SparkStepRunner.class).warn("OpenLineage COMPLETE event not built: {}", e.toString());
            return;
        }
        events.complete(inputs, outputs);
    }
}
