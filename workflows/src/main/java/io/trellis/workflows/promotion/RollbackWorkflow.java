package io.trellis.workflows.promotion;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One rollback of one environment, as a workflow so it is durable, retried through a database restart, and
 * visible to operators beside the promotions. Workflow ID: {@link #workflowId}.
 */
@WorkflowInterface
public interface RollbackWorkflow {
    String WORKFLOW_TYPE = "Rollback";

    @WorkflowMethod(name = WORKFLOW_TYPE)
    RollbackResult run(RollbackRequest request);

    static String workflowId(String modelName, String environment, String label) {
        return "rollback/" + modelName + "/" + environment + "/" + label;
    }
}
