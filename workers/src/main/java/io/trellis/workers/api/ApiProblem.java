package io.trellis.workers.api;

import io.trellis.metadata.ApiAccess;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.Map;

/**
 * An RFC 9457 problem: answered as {@code application/problem+json} with {@code type}, {@code title},
 * {@code status}, {@code detail} and {@code instance}. The detail says what is wrong and how to fix it; it never
 * carries a stack trace, a class name or SQL.
 */
public final class ApiProblem extends RuntimeException {
    /** Problem types are URNs: stable identifiers a client can switch on; the README lists them. */
    public static final String TYPE_PREFIX = "urn:trellis:problem:";

    private final int status;
    private final String slug;
    private final String title;
    private final Map<String, String> headers;

    public ApiProblem(int status, String slug, String title, String detail) {
        this(status, slug, title, detail, Map.of());
    }

    public ApiProblem(int status, String slug, String title, String detail, Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.slug = slug;
        this.title = title;
        this.headers = headers;
    }

    public int status() {
        return status;
    }

    public String type() {
        return TYPE_PREFIX + slug;
    }

    public String title() {
        return title;
    }

    public String detail() {
        return getMessage();
    }

    public Map<String, String> headers() {
        return headers;
    }

    public static ApiProblem badRequest(String detail) {
        return new ApiProblem(400, "invalid-request", "Invalid request", detail);
    }

    public static ApiProblem unauthorized(String detail, boolean tokenPresented) {
        return new ApiProblem(401, "unauthorized", "Authentication required", detail,
                Map.of("WWW-Authenticate", tokenPresented ? "Bearer realm=\"trellis\", error=\"invalid_token\"" : "Bearer realm=\"trellis\""));
    }

    public static ApiProblem forbidden(String detail) {
        return new ApiProblem(403, "forbidden", "Forbidden", detail);
    }

    public static ApiProblem notFound(String slug, String detail) {
        return new ApiProblem(404, slug, "Not found", detail);
    }

    /** A user error from the services, with the HTTP status its code stands for. */
    public static ApiProblem of(TrellisException e) {
        if (e instanceof ApiAccess.IdempotencyKeyReusedException) {
            return new ApiProblem(422, "idempotency-key-reused", "Idempotency key reused", e.getMessage());
        }
        ErrorCode code = e.code();
        return switch (code) {
            case UNKNOWN_MODEL -> new ApiProblem(404, "unknown-model", "Unknown model", e.getMessage());
            case UNKNOWN_MODEL_VERSION -> new ApiProblem(404, "unknown-model-version", "Unknown model version", e.getMessage());
            case UNKNOWN_DATASET_VERSION -> new ApiProblem(404, "unknown-dataset-version", "Unknown dataset version", e.getMessage());
            case UNKNOWN_LEGAL_HOLD -> new ApiProblem(404, "unknown-legal-hold", "Unknown legal hold", e.getMessage());
            case INVALID_REQUEST -> badRequest(e.getMessage());
            case FORBIDDEN -> forbidden(e.getMessage());
            case INVALID_STATE -> new ApiProblem(409, "invalid-state", "Conflict with the current state", e.getMessage());
            case PROMOTION_CONFLICT -> new ApiProblem(409, "promotion-conflict", "Another promotion is active", e.getMessage());
            case TRANSIENT -> new ApiProblem(503, "unavailable", "Temporarily unavailable", e.getMessage(), Map.of("Retry-After", "5"));
            default -> new ApiProblem(422, slugOf(code), "Unprocessable request", e.getMessage());
        };
    }

    private static String slugOf(ErrorCode code) {
        return code.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
