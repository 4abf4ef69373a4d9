package io.trellis.metadata;

import java.time.Instant;
import java.util.Set;

/** An identity and its roles ({@code roles} is unmodifiable and ordered as {@link PrincipalRole} declares them). */
public record PrincipalRecord(long id, String name, Set<PrincipalRole> roles, Instant createdAt, Instant updatedAt) {

    public boolean hasRole(PrincipalRole role) {
        return roles.contains(role);
    }
}
