package io.trellis.workflows;

import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.TemporalFailure;
import io.trellis.spec.ErrorCode;
import java.util.Arrays;

/**
 * Failure types shared by the code that throws them (activities) and the retry policies that must not
 * retry them (workflows): the {@link ErrorCode} names.
 */
public final class Failures {
    private Failures() {}

    /** Every error code that a retry cannot fix: data, spec and request problems. */
    public static String[] nonRetryableTypes() {
        return Arrays.stream(ErrorCode.values()).filter(c -> !c.retryable()).map(Enum::name).toArray(String[]::new);
    }

    /** The innermost application failure's type, or {@code null} when the failure is not an application one. */
    public static String type(TemporalFailure failure) {
        ApplicationFailure app = applicationCause(failure);
        return app == null ? null : app.getType();
    }

    /** The message an operator should read: the application failure's own message, without Temporal's wrapping. */
    public static String message(TemporalFailure failure) {
        ApplicationFailure app = applicationCause(failure);
        if (app != null) {
            return app.getOriginalMessage();
        }
        Throwable t = failure;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? failure.getMessage() : t.getMessage();
    }

    private static ApplicationFailure applicationCause(Throwable failure) {
        Throwable t = failure;
        while (t != null) {
            if (t instanceof ApplicationFailure app) {
                return app;
            }
            t = t.getCause();
        }
        return null;
    }

    /**
     * The failure a workflow ends with when a step failed: the step's own type and message (not Temporal's
     * wrapping), so the UI, the CLI and callers see the cause; non-retryable, as the step's retries are spent.
     */
    public static ApplicationFailure asWorkflowFailure(ActivityFailure f) {
        String type = type(f);
        return ApplicationFailure.newNonRetryableFailureWithCause(message(f),
                type == null ? ErrorCode.TRANSIENT.name() : type, f);
    }
}
