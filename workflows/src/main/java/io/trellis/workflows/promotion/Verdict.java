package io.trellis.workflows.promotion;

public enum Verdict {
    APPROVE,
    REJECT
}
