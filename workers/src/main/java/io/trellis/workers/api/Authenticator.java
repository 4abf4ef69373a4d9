package io.trellis.workers.api;

/**
 * Turns a request's credentials into an {@link Identity}, or refuses with a 401 {@link ApiProblem}.
 *
 * <p>The seam for production identity providers: {@link TokenAuthenticator} checks Trellis's own API tokens. An
 * OIDC/JWT implementation would verify the bearer JWT's signature against the issuer's JWKS (cached, refreshed on
 * an unknown {@code kid}), check {@code iss}, {@code aud}, {@code exp} and {@code nbf} with a small clock skew,
 * take the identity from a configured claim ({@code sub} or {@code email}) and map a groups/roles claim to
 * {@link io.trellis.metadata.PrincipalRole}s. Approvals still check the {@code approver} role of the principal in
 * the registry (four-eyes), so such an identity must also exist as a principal to approve. Several authenticators
 * can be chained: the first that recognises the credential's form answers.
 */
public interface Authenticator {
    /**
     * @param authorization the request's {@code Authorization} header, or null when it has none
     * @return the caller, never null
     * @throws ApiProblem 401 when the header is missing, malformed, or names no valid credential
     */
    Identity authenticate(String authorization);
}
