package io.trellis.activities.spark;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.trellis.activities.ActivityErrors;
import io.trellis.spark.SparkProgress;
import io.trellis.workflows.activities.SparkStepProgress;
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
 */
final class SparkStepRunner {
    private static final long HEARTBEAT_MILLIS = 2000;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final SparkSession spark;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "trellis-spark-step-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    SparkStepRunner(SparkSession spark) {
        this.spark = spark;
    }

    <T> T run(String step, Function<SparkSession, T> body) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        ActivityInfo info = ctx.getInfo();
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
                return future.get(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillRunning) {
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
                throw ActivityErrors.translate(failed.getCause());
            } catch (InterruptedException interrupted) {
                spark.sparkContext().cancelJobGroupAndFutureJobs(group);
                future.cancel(true);
                Thread.currentThread().interrupt();
                throw ActivityErrors.translate(interrupted);
            }
        }
    }
}
