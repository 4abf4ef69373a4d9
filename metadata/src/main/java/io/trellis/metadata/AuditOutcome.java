package io.trellis.metadata;

/** Outcome of an audited action: it worked, it broke, or a rule (gate, validation, policy) turned it down. */
public enum AuditOutcome {
    SUCCESS,
    FAILURE,
    REJECTED
}
