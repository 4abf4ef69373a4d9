package io.trellis.workflows.promotion;

/** A person's decision on a promotion awaiting approval; a rejection carries its reason. */
public record ApprovalDecision(String approver, Verdict verdict, String reason) {}
