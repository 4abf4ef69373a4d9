package io.trellis.metadata;

/**
 * What a presented token turned out to be. {@code principal} and {@code token} are set unless the status is
 * {@link Status#UNKNOWN}; only {@link Status#VALID} grants access.
 */
public record TokenCheck(Status status, ApiTokenRecord token, PrincipalRecord principal) {
    public enum Status { VALID, UNKNOWN, REVOKED, EXPIRED }

    public boolean valid() {
        return status == Status.VALID;
    }
}
