package io.trellis.metadata;

/** An approver's verdict on a promotion. */
public enum Decision {
    APPROVED,
    REJECTED
}
