package io.trellis.workers.api;

import io.trellis.metadata.ApiAccess;
import io.trellis.metadata.TokenCheck;

/** Bearer tokens created by {@code trellis tokens create}: looked up by SHA-256, acting as their principal. */
public final class TokenAuthenticator implements Authenticator {
    private final ApiAccess access;

    public TokenAuthenticator(ApiAccess access) {
        this.access = access;
    }

    @Override
    public Identity authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw ApiProblem.unauthorized("This endpoint needs a bearer token: send 'Authorization: Bearer <token>'"
                    + " (an admin creates one with `trellis tokens create <principal>`).", false);
        }
        int space = authorization.indexOf(' ');
        if (space < 0 || !authorization.substring(0, space).equalsIgnoreCase("Bearer")) {
            throw ApiProblem.unauthorized("The Authorization header must use the Bearer scheme: 'Authorization: Bearer <token>'.", true);
        }
        String secret = authorization.substring(space + 1).trim();
        TokenCheck check = access.checkToken(secret);
        return switch (check.status()) {
            case VALID -> new Identity(check.principal().name(), check.principal().roles(), "token:" + check.token().tokenId());
            case REVOKED -> throw ApiProblem.unauthorized("The bearer token " + check.token().tokenId() + " was revoked at "
                    + check.token().revokedAt() + "; ask an admin for a new one.", true);
            case EXPIRED -> throw ApiProblem.unauthorized("The bearer token " + check.token().tokenId() + " expired at "
                    + check.token().expiresAt() + "; ask an admin for a new one.", true);
            case UNKNOWN -> throw ApiProblem.unauthorized("The bearer token is not valid: no such token exists."
                    + " Check that it was copied whole (it starts with '" + ApiAccess.SECRET_PREFIX + "').", true);
        };
    }
}
