package io.trellis.metadata;

/**
 * Where a promotion stands. RUNNING and AWAITING_APPROVAL are active (at most one active promotion per model
 * and target environment); the others are final.
 */
public enum PromotionStatus {
    RUNNING,
    AWAITING_APPROVAL,
    DEPLOYED,
    GATE_FAILED,
    REJECTED,
    EXPIRED,
    FAILED;

    public boolean isActive() {
        return this == RUNNING || this == AWAITING_APPROVAL;
    }
}
