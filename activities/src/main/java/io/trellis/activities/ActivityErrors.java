package io.trellis.activities;

import io.temporal.failure.ApplicationFailure;
import io.trellis.spec.TrellisException;

/**
 * Turns what the work code throws into what Temporal's retry policy understands: a {@link TrellisException}
 * becomes an {@link ApplicationFailure} whose type is its error code (non-retryable unless the code says
 * otherwise); anything else stays retryable, keeping its message.
 */
public final class ActivityErrors {
    private ActivityErrors() {}

    public static RuntimeException translate(Throwable t) {
        if (t instanceof ApplicationFailure af) {
            return af;
        }
        TrellisException te = find(t);
        if (te != null) {
            return te.code().retryable()
                    ? ApplicationFailure.newFailureWithCause(te.getMessage(), te.code().name(), te)
                    : ApplicationFailure.newNonRetryableFailureWithCause(te.getMessage(), te.code().name(), te);
        }
        if (t instanceof RuntimeException re) {
            return re;
        }
        return ApplicationFailure.newFailureWithCause(String.valueOf(t.getMessage()), t.getClass().getName(), t);
    }

    private static TrellisException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TrellisException te) {
                return te;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return null;
    }
}
