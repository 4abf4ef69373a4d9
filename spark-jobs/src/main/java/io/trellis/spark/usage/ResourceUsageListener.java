package io.trellis.spark.usage;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import org.apache.spark.SparkContext;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * Sums the task metrics of every Spark job group: a task's stage is attributed to the job group of the job that
 * submitted it (the group is a property of that job, copied onto the stage submission). One listener per
 * {@link SparkContext} ({@link #on}); callers read a group's usage while it runs ({@link #current}) and take it
 * when it is over ({@link #take}), which forgets it.
 *
 * <p>Listener events arrive asynchronously on Spark's listener bus: call {@link #awaitEvents} after the work ended
 * and before taking its usage, or the last tasks may be missing.
 */
public final class ResourceUsageListener extends SparkListener {
    /** The local property Spark sets for {@code setJobGroup}. */
    static final String JOB_GROUP = "spark.jobGroup.id";
    private static final Map<SparkContext, ResourceUsageListener> ATTACHED = new WeakHashMap<>();

    private final SparkContext sc;
    private final Map<String, Totals> groups = new ConcurrentHashMap<>();
    private final Map<String, String> stageGroups = new ConcurrentHashMap<>();

    private ResourceUsageListener(SparkContext sc) {
        this.sc = sc;
    }

    /** The listener of this context, added to its listener bus on first use. */
    public static ResourceUsageListener on(SparkContext sc) {
        synchronized (ATTACHED) {
            return ATTACHED.computeIfAbsent(sc, c -> {
                ResourceUsageListener listener = new ResourceUsageListener(c);
                c.addSparkListener(listener);
                return listener;
            });
        }
    }

    /** What the group used so far (tasks that ended), without forgetting it. */
    public ResourceUsage current(String group) {
        Totals t = groups.get(group);
        return t == null ? ResourceUsage.NONE : t.snapshot();
    }

    /**
     * What the group used; forgets the group and its stages. The stages are kept until then, not dropped when they
     * complete: the tasks of a cancelled stage end (killed) after the stage was marked finished, and count too.
     */
    public ResourceUsage take(String group) {
        stageGroups.values().removeIf(group::equals);
        Totals t = groups.remove(group);
        return t == null ? ResourceUsage.NONE : t.snapshot();
    }

    /**
     * Waits until the listener bus delivered every event posted so far (false when it did not within {@code timeout}:
     * the usage read next may then miss the last tasks).
     */
    public boolean awaitEvents(Duration timeout) {
        try {
            sc.listenerBus().waitUntilEmpty(timeout.toMillis());
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
        String group = group(jobStart.properties());
        if (group != null) {
            totals(group).addJob();
        }
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
        String group = group(submitted.properties());
        if (group != null) {
            stageGroups.put(stageKey(submitted.stageInfo().stageId(), submitted.stageInfo().attemptNumber()), group);
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
        String group = stageGroups.get(stageKey(taskEnd.stageId(), taskEnd.stageAttemptId()));
        if (group == null) {
            return;
        }
        Totals t = totals(group);
        boolean failed = taskEnd.taskInfo() != null && !taskEnd.taskInfo().successful();
        t.add(taskEnd.taskMetrics(), failed);
    }

    private Totals totals(String group) {
        return groups.computeIfAbsent(group, g -> new Totals());
    }

    private static String group(Properties properties) {
        return properties == null ? null : properties.getProperty(JOB_GROUP);
    }

    private static String stageKey(int stageId, int attempt) {
        return stageId + "." + attempt;
    }

    /** Written by the listener-bus thread only; read from others under the lock. */
    private static final class Totals {
        long jobs;
        long tasks;
        long failedTasks;
        long runMillis;
        long cpuNanos;
        long bytesRead;
        long recordsRead;
        long bytesWritten;
        long recordsWritten;
        long shuffleRead;
        long shuffleWrite;
        long peakMemory;
        long memoryByteMillis;

        synchronized void addJob() {
            jobs++;
        }

        synchronized void add(TaskMetrics m, boolean failed) {
            tasks++;
            if (failed) {
                failedTasks++;
            }
            if (m == null) {
                return;
            }
            runMillis += m.executorRunTime();
            cpuNanos += m.executorCpuTime();
            bytesRead += m.inputMetrics().bytesRead();
            recordsRead += m.inputMetrics().recordsRead();
            bytesWritten += m.outputMetrics().bytesWritten();
            recordsWritten += m.outputMetrics().recordsWritten();
            shuffleRead += m.shuffleReadMetrics().totalBytesRead();
            shuffleWrite += m.shuffleWriteMetrics().bytesWritten();
            peakMemory = Math.max(peakMemory, m.peakExecutionMemory());
            memoryByteMillis += m.peakExecutionMemory() * m.executorRunTime();
        }

        synchronized ResourceUsage snapshot() {
            return new ResourceUsage(jobs, tasks, failedTasks, runMillis, cpuNanos, bytesRead, recordsRead, bytesWritten, recordsWritten,
                    shuffleRead, shuffleWrite, peakMemory, memoryByteMillis, 0);
        }
    }
}
