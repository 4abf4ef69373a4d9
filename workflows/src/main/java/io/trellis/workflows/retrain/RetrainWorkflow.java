package io.trellis.workflows.retrain;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.ApprovalReceipt;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One retraining lifecycle of one model: snapshot + validate, features, train, evaluate, gates, register,
 * dev candidate. Workflow ID: {@link #workflowId(String, String)}, e.g. {@code retrain/customer-churn/20261126-012345}.
 */
@WorkflowInterface
public interface RetrainWorkflow {
    String WORKFLOW_TYPE = "Retrain";

    @WorkflowMethod(name = WORKFLOW_TYPE)
    RetrainResult run(RetrainRequest request);

    @QueryMethod
    RetrainProgress progress();

    /**
     * Approve or reject a run waiting at the budget gate (its estimate is over the model's budget); fails, audited, when
     * the approver lacks the approver role or triggered the run.
     */
    @UpdateMethod
    ApprovalReceipt decideBudget(ApprovalDecision decision);

    @UpdateValidatorMethod(updateName = "decideBudget")
    void validateDecideBudget(ApprovalDecision decision);

    static String workflowId(String modelName, String runLabel) {
        return "retrain/" + modelName + "/" + runLabel;
    }
}
