package io.trellis.spark;

import org.apache.spark.JobExecutionStatus;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.JavaSparkStatusTracker;

/**
 * A snapshot of the Spark jobs of one job group, for heartbeats. Stages Spark skipped (their output was
 * reused: in a finished job, a stage that ran no task) count as neither done nor pending. Safe to call
 * from any thread.
 */
public record SparkProgress(int jobsRunning, int jobsDone, int stagesDone, int stagesTotal, long tasksDone, long tasksTotal) {
    public static SparkProgress of(SparkContext sc, String group) {
        JavaSparkStatusTracker tracker = JavaSparkContext.fromSparkContext(sc).statusTracker();
        int running = 0;
        int done = 0;
        int stagesDone = 0;
        int stagesTotal = 0;
        long tasksDone = 0;
        long tasksTotal = 0;
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int jobId : tracker.getJobIdsForGroup(group)) {
            SparkJobInfo job = tracker.getJobInfo(jobId);
            if (job == null) {
                continue;
            }
            if (job.status() == JobExecutionStatus.RUNNING) {
                running++;
            } else if (job.status() == JobExecutionStatus.SUCCEEDED) {
                done++;
            }
            for (int stageId : job.stageIds()) {
                SparkStageInfo stage = tracker.getStageInfo(stageId);
                boolean skipped = stage != null && job.status() != JobExecutionStatus.RUNNING
                        && stage.numCompletedTasks() == 0 && stage.numActiveTasks() == 0;
                if (stage == null || skipped || !seen.add(stageId)) {
                    continue;
                }
                stagesTotal++;
                tasksTotal += stage.numTasks();
                tasksDone += stage.numCompletedTasks();
                if (stage.numTasks() > 0 && stage.numCompletedTasks() >= stage.numTasks()) {
                    stagesDone++;
                }
            }
        }
        return new SparkProgress(running, done, stagesDone, stagesTotal, tasksDone, tasksTotal);
    }

    /** Fraction of known tasks completed, 0 when nothing has started. */
    public double fractionDone() {
        return tasksTotal == 0 ? 0.0 : (double) tasksDone / tasksTotal;
    }
}
