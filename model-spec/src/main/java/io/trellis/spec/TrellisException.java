package io.trellis.spec;

/**
 * A failure a user can act on. The message says what is wrong, why, and how to fix it
 * (the delta-io kernel's exception principles); {@link #code()} classifies it.
 */
public class TrellisException extends RuntimeException {
    private final ErrorCode code;

    public TrellisException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public TrellisException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
