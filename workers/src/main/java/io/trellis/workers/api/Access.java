package io.trellis.workers.api;

import io.trellis.metadata.PrincipalRole;
import java.util.EnumSet;
import java.util.Set;

/**
 * Who may call an endpoint: the role matrix, enforced by {@link ApiServer} before any handler runs. Admins may do
 * everything but decide promotions and roll back, which stay with approvers (separation of duties; the registry
 * also checks the approver role on decisions).
 */
public enum Access {
    /** Liveness and readiness: no token. */
    PUBLIC(EnumSet.noneOf(PrincipalRole.class)),
    /** Reads of models, versions, runs, environments, promotions, metrics and the API document. */
    READ(EnumSet.allOf(PrincipalRole.class)),
    /** Starting retrains and managing schedules. */
    TRIGGER(EnumSet.of(PrincipalRole.ML_ENGINEER, PrincipalRole.ADMIN)),
    /** Approving or rejecting promotions and rolling environments back. */
    DECIDE(EnumSet.of(PrincipalRole.APPROVER)),
    /** Audit queries and exports. */
    AUDIT(EnumSet.of(PrincipalRole.AUDITOR, PrincipalRole.ADMIN)),
    /** Running retention, which deletes data files and model artifacts. */
    ADMINISTER(EnumSet.of(PrincipalRole.ADMIN));

    private final Set<PrincipalRole> roles;

    Access(Set<PrincipalRole> roles) {
        this.roles = roles;
    }

    /** The roles any one of which grants access (empty for {@link #PUBLIC}). */
    public Set<PrincipalRole> roles() {
        return roles;
    }

    public boolean allows(Set<PrincipalRole> held) {
        return this == PUBLIC || held.stream().anyMatch(roles::contains);
    }
}
