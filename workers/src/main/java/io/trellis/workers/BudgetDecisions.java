package io.trellis.workers;

import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.AuditOutcome;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.ApprovalReceipt;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.RetrainWorkflow;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sends an approver's decision to a retrain waiting at its budget gate (the {@code decideBudget} Workflow Update), for the
 * CLI ({@code trellis budget approve|reject}) and the API. The workflow's budget activity checks the approver role and the
 * four-eyes rule and audits {@code budget.approved}/{@code budget.rejected} or the refusal; a decision the workflow never
 * takes (no such run, not waiting at the gate, malformed) is audited here as {@code budget.decision_refused}.
 */
public final class BudgetDecisions {
    private final TrellisRuntime runtime;

    public BudgetDecisions(TrellisRuntime runtime) {
        this.runtime = runtime;
    }

    public ApprovalReceipt decide(String runKey, ApprovalDecision decision) {
        if (decision.verdict() == Verdict.REJECT && (decision.reason() == null || decision.reason().isBlank())) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Rejecting a budget needs a non-blank reason, so that the trigger knows why.");
        }
        if (runtime.registry().run(runKey).isEmpty()) {
            throw refused(runKey, decision, new TrellisException(ErrorCode.INVALID_REQUEST, "No run '" + runKey
                    + "' exists; list runs with `trellis status` or GET /api/v1/runs."));
        }
        try {
            return runtime.client().newWorkflowStub(RetrainWorkflow.class, runKey).decideBudget(decision);
        } catch (WorkflowNotFoundException e) {
            throw refused(runKey, decision, new TrellisException(ErrorCode.INVALID_STATE, "Run " + runKey + " is not running, so it is not"
                    + " waiting for a budget approval."));
        } catch (WorkflowUpdateException e) {
            String type = null;
            String message = e.getMessage();
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof ApplicationFailure af) {
                    type = af.getType();
                    message = af.getOriginalMessage();
                }
            }
            if (ErrorCode.FORBIDDEN.name().equals(type)) {
                // refused and audited by the budget activity
                throw new TrellisException(ErrorCode.FORBIDDEN, message);
            }
            throw refused(runKey, decision, new TrellisException(ErrorCode.INVALID_STATE, "Budget decision on " + runKey + " refused: " + message));
        }
    }

    private TrellisException refused(String runKey, ApprovalDecision decision, TrellisException e) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("verdict", String.valueOf(decision.verdict()));
        details.put("reason", decision.reason());
        details.put("errorCode", e.code().name());
        String model = runtime.registry().run(runKey).map(r -> r.modelName()).orElse(null);
        runtime.registry().recordAudit(decision.approver() == null || decision.approver().isBlank() ? "unknown" : decision.approver(),
                "budget.decision_refused", AuditOutcome.REJECTED, model, null,
                runtime.registry().run(runKey).isPresent() ? runKey : null, e.getMessage(), details);
        return e;
    }
}
