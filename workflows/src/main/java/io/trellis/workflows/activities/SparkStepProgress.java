package io.trellis.workflows.activities;

/**
 * The heartbeat details of a running Spark step: what the Temporal UI shows under the pending activity and
 * what the CLI's progress line reads.
 */
public record SparkStepProgress(String step, int jobsDone, int jobsRunning, int stagesDone, int stagesTotal,
                                long tasksDone, long tasksTotal, long elapsedMillis) {

    public String describe() {
        String tasks = tasksTotal > 0 ? String.format(java.util.Locale.ROOT, "%d/%d tasks (%d%%)", tasksDone, tasksTotal,
                tasksDone * 100 / tasksTotal) : "starting";
        return String.format(java.util.Locale.ROOT, "%s: Spark jobs %d done, %d running; stages %d/%d; %s; %.1fs",
                step, jobsDone, jobsRunning, stagesDone, stagesTotal, tasks, elapsedMillis / 1000.0);
    }
}
