package io.trellis.workflows.monitor;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One monitoring pass over the version live in an environment: the latest window against the version's reference
 * (its training snapshot), a decision by the spec's monitoring policy, at most one retrain started, an HTML report,
 * and the statistics recorded as a time series. Workflow ID: {@link #workflowId}, e.g.
 * {@code monitor/customer-churn/production/20261126-060000}; a scheduled one runs under {@link #scheduleId} with a
 * cron schedule, one Temporal run per tick.
 */
@WorkflowInterface
public interface MonitorWorkflow {
    String WORKFLOW_TYPE = "Monitor";
    /** The identity monitoring acts as: who triggered the retrains it starts. */
    String ACTOR = "trellis-monitor";

    @WorkflowMethod(name = WORKFLOW_TYPE)
    MonitorResult run(MonitorRequest request);

    static String workflowId(String modelName, String environment, String label) {
        return "monitor/" + modelName + "/" + environment + "/" + label;
    }

    static String scheduleId(String modelName, String environment) {
        return workflowId(modelName, environment, "scheduled");
    }
}
