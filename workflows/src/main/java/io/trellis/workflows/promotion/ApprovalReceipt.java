package io.trellis.workflows.promotion;

/** What the approval update returns once the decision is recorded (and audited). */
public record ApprovalReceipt(String promotionKey, String approver, Verdict verdict) {}
