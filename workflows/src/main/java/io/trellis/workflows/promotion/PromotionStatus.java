package io.trellis.workflows.promotion;

/** Where a promotion stands; every status but RUNNING and AWAITING_APPROVAL is final. */
public enum PromotionStatus {
    RUNNING,
    AWAITING_APPROVAL,
    /** Live in the target environment. */
    DEPLOYED,
    GATE_FAILED,
    REJECTED,
    /** No decision arrived within the spec's approval timeout. */
    EXPIRED,
    FAILED
}
