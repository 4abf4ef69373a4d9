package io.trellis.workflows.budget;

import io.temporal.activity.ActivityInterface;
import io.trellis.workflows.promotion.ApprovalDecision;

/**
 * Budget checks of a retrain, on the orchestration queue: the estimate before the heavy steps, the approver's
 * decision when it is over budget, and how the gate ended. Every call writes one audit row.
 */
@ActivityInterface(namePrefix = "Budget")
public interface BudgetActivities {
    /** Estimates the run's cost from its snapshot's size and the model's recent runs; audits the verdict. */
    BudgetVerdict assess(BudgetRequest request);

    /**
     * Records an approver's decision on a run waiting at the budget gate; refuses (audited, FORBIDDEN) one who lacks the
     * approver role or who triggered the run (four-eyes).
     */
    void decide(BudgetRequest request, ApprovalDecision decision);

    /** Audits how the gate ended when no one decided: {@code action} budget.failed or budget.expired. */
    void recordOutcome(BudgetRequest request, String action, String message);
}
