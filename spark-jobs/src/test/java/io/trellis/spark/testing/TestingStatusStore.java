package io.trellis.spark.testing;

import io.trellis.spark.usage.ResourceUsage;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.spark.SparkContext;
import org.apache.spark.status.AppStatusStore;
import org.apache.spark.status.api.v1.JobData;
import org.apache.spark.status.api.v1.StageData;
import org.apache.spark.status.api.v1.TaskData;
import scala.jdk.javaapi.CollectionConverters;

/**
 * What Spark's own status store (the data behind the Spark UI and its REST API) says a job group used: the reference
 * the resource accounting is checked against. Call after the listener bus drained.
 */
public final class TestingStatusStore {
    private TestingStatusStore() {}

    /** The same totals computed from the status store's jobs, stage attempts and tasks of the group. */
    public static ResourceUsage usage(SparkContext sc, String group) {
        AppStatusStore store = sc.statusStore();
        long jobs = 0;
        Set<Integer> stageIds = new HashSet<>();
        for (JobData job : CollectionConverters.asJava(store.jobsList(null))) {
            if (job.jobGroup().isDefined() && job.jobGroup().get().equals(group)) {
                jobs++;
                for (Object id : CollectionConverters.asJava(job.stageIds())) {
                    stageIds.add((Integer) id);
                }
            }
        }
        long tasks = 0, failed = 0, run = 0, cpu = 0, in = 0, inRec = 0, out = 0, outRec = 0, shR = 0, shW = 0, peak = 0, memTime = 0;
        for (int stageId : stageIds) {
            for (StageData s : CollectionConverters.asJava(store.stageData(stageId, false, List.of(), false, new double[0]))) {
                tasks += s.numCompleteTasks() + s.numFailedTasks() + s.numKilledTasks();
                failed += s.numFailedTasks() + s.numKilledTasks();
                run += s.executorRunTime();
                cpu += s.executorCpuTime();
                in += s.inputBytes();
                inRec += s.inputRecords();
                out += s.outputBytes();
                outRec += s.outputRecords();
                shR += s.shuffleReadBytes();
                shW += s.shuffleWriteBytes();
                for (TaskData t : CollectionConverters.asJava(store.taskList(stageId, s.attemptId(), Integer.MAX_VALUE))) {
                    if (t.taskMetrics().isDefined()) {
                        long p = t.taskMetrics().get().peakExecutionMemory();
                        peak = Math.max(peak, p);
                        memTime += p * t.taskMetrics().get().executorRunTime();
                    }
                }
            }
        }
        return new ResourceUsage(jobs, tasks, failed, run, cpu, in, inRec, out, outRec, shR, shW, peak, memTime, 0);
    }
}
