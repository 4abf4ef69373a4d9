package io.trellis.workers;

/**
 * The worker knobs an operator may turn, beyond the Spark queue's concurrency: how many workflow runs one process
 * keeps cached (each cached run waiting on a timer or an approval holds a workflow thread), how many pollers each
 * task queue runs, and how many light activities and workflow tasks the orchestration queue runs at once. The
 * defaults are the Temporal SDK's.
 *
 * @param workflowCacheSize        cached runs per process, also the workflow thread cap (SDK default 600)
 * @param pollers                  pollers per task queue, for workflow and for activity tasks (SDK default 5)
 * @param orchestrationConcurrency activities and workflow tasks at once on the orchestration queue (SDK default 200)
 */
public record WorkerTuning(int workflowCacheSize, int pollers, int orchestrationConcurrency) {
    public static final WorkerTuning SDK_DEFAULTS = new WorkerTuning(600, 5, 200);

    public WorkerTuning {
        if (workflowCacheSize < 1 || pollers < 1 || orchestrationConcurrency < 1) {
            throw new IllegalArgumentException("worker tuning values must be positive: " + workflowCacheSize + ", " + pollers + ", "
                    + orchestrationConcurrency);
        }
    }
}
