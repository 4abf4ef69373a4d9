package io.trellis.workflows.promotion;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.UpdateMethod;
import io.temporal.workflow.UpdateValidatorMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * The deployment lifecycle of one model version towards one target environment: per stage, gates (data
 * quality, artifact checksum, metric bounds, beating that environment's live version on the same holdout),
 * a shadow run where the spec asks for one, a human approval where it asks for one (four-eyes, with a
 * timeout), then the live pointer moves. Workflow ID: {@link #workflowId}.
 */
@WorkflowInterface
public interface PromotionWorkflow {
    String WORKFLOW_TYPE = "Promote";

    @WorkflowMethod(name = WORKFLOW_TYPE)
    PromotionResult run(PromotionRequest request);

    /** Approve or reject; fails (and is audited) when the approver may not decide or nothing awaits a decision. */
    @UpdateMethod
    ApprovalReceipt decide(ApprovalDecision decision);

    @UpdateValidatorMethod(updateName = "decide")
    void validateDecide(ApprovalDecision decision);

    @QueryMethod
    PromotionProgress progress();

    static String workflowId(String modelName, int version, String targetEnvironment, String label) {
        return "promote/" + modelName + "/v" + version + "/" + targetEnvironment + "/" + label;
    }
}
