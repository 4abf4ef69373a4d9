package io.trellis.workflows.promotion;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Batch scoring for one environment: the version live there when the run starts scores the latest window of
 * the source table into the environment's predictions table, once per run (idempotent on retry).
 * Workflow ID: {@link #workflowId}, e.g. {@code score/customer-churn/production/20261126-030000}; a scheduled
 * scoring runs under {@link #scheduleId} with a cron schedule, one Temporal run per tick.
 */
@WorkflowInterface
public interface ScoringWorkflow {
    String WORKFLOW_TYPE = "Score";

    @WorkflowMethod(name = WORKFLOW_TYPE)
    ScoringRunResult run(ScoringRequest request);

    static String workflowId(String modelName, String environment, String label) {
        return "score/" + modelName + "/" + environment + "/" + label;
    }

    static String scheduleId(String modelName, String environment) {
        return workflowId(modelName, environment, "scheduled");
    }
}
