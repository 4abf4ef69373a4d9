package io.trellis.workers.api;

import io.trellis.metadata.PrincipalRole;
import java.util.Set;

/**
 * Who is calling: the name recorded in the audit trail for everything this request does, its roles, and how it
 * was established ({@code token:tok_…}, or e.g. {@code oidc:<issuer>} for a JWT authenticator).
 */
public record Identity(String name, Set<PrincipalRole> roles, String via) {
    public Identity {
        roles = Set.copyOf(roles);
    }
}
