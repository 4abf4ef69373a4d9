package io.trellis.workflows.retention;

import java.util.Objects;

/** One retention run: its mode, who asked (a person, or {@code schedule}) and why (audited). */
public record RetentionRequest(RetentionMode mode, String requestedBy, String reason) {
    public RetentionRequest {
        Objects.requireNonNull(mode, "mode");
        if (requestedBy == null || requestedBy.isBlank()) {
            throw new IllegalArgumentException("requestedBy must not be blank");
        }
    }
}
