package io.trellis.workflows.schedule;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * A durable schedule for the embedded Temporal test server, which lacks the Schedules API: sleeps until the cron's
 * next firing, starts the run as a child workflow (abandoned if the schedule is deleted), applies the overlap
 * policy so that a model never has two scheduled runs at once, and continues as new every so often to keep its
 * history short. Workflow ID: {@link #workflowId(String)}. On a real cluster Temporal Schedules do this job.
 */
@WorkflowInterface
public interface SchedulerWorkflow {
    String WORKFLOW_TYPE = "Scheduler";

    @WorkflowMethod(name = WORKFLOW_TYPE)
    void run(ScheduleState state);

    @SignalMethod
    void pause(String note);

    @SignalMethod
    void resume(String note);

    /** Fire once now (subject to the overlap policy, even while paused: an operator asked for it). */
    @SignalMethod
    void triggerNow();

    /** Replace the definition (cron, zone, overlap); the ID, kind and model stay. */
    @SignalMethod
    void update(ScheduleDefinition definition);

    /** Stop scheduling and end; a run in progress finishes on its own. */
    @SignalMethod
    void delete();

    @QueryMethod
    ScheduleInfo describe();

    static String workflowId(String scheduleId) {
        return "schedule/" + scheduleId;
    }
}
