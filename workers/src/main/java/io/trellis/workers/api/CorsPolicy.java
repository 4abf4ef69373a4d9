package io.trellis.workers.api;

import com.sun.net.httpserver.Headers;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Cross-origin access for the endpoints a browser application calls directly: the Temporal UI's "Data Encoder"
 * POSTs payloads to the codec endpoints from the operator's browser. Only the listed origins are answered (exactly,
 * never {@code *}: the UI may send the user's credentials), and only on paths under {@code pathPrefix}; everything
 * else of the API stays same-origin. A preflight is answered before authentication (browsers send it without the
 * Authorization header); the actual request is authenticated and role-checked as any other.
 *
 * @param pathPrefix the paths covered, e.g. {@code /codec/}
 * @param origins    allowed origins ({@code trellis.temporal.codec.cors.origins}); empty: no cross-origin access
 */
public record CorsPolicy(String pathPrefix, List<String> origins) {
    /** No cross-origin access anywhere. */
    public static final CorsPolicy NONE = new CorsPolicy("/codec/", List.of());
    private static final String DEFAULT_HEADERS = "authorization, content-type, x-namespace";
    private static final Pattern HEADER_LIST = Pattern.compile("[A-Za-z0-9-]+(\\s*,\\s*[A-Za-z0-9-]+)*");

    public CorsPolicy {
        origins = List.copyOf(origins);
    }

    private boolean covers(String rawPath) {
        return rawPath != null && rawPath.startsWith(pathPrefix);
    }

    /** A CORS preflight: OPTIONS on a covered path with Origin and Access-Control-Request-Method. */
    boolean isPreflight(String method, String rawPath, Headers headers) {
        return method.equals("OPTIONS") && covers(rawPath) && headers.containsKey("Origin")
                && headers.containsKey("Access-Control-Request-Method");
    }

    /** 204 with the allowed method and headers for a listed origin; a 403 problem naming the setting otherwise. */
    ApiResponse preflight(String rawPath, Headers headers) {
        String origin = headers.getFirst("Origin");
        if (!origins.contains(origin)) {
            throw ApiProblem.forbidden("The origin '" + ApiRequest.clip(origin) + "' may not call " + ApiRequest.clip(rawPath)
                    + " from a browser: " + (origins.isEmpty() ? "no origin is allowed" : "the allowed origins are " + String.join(", ", origins))
                    + ". Add the Temporal UI's origin to trellis.temporal.codec.cors.origins (TRELLIS_TEMPORAL_CODEC_CORS_ORIGINS).");
        }
        String requested = headers.getFirst("Access-Control-Request-Headers");
        String allowHeaders = requested != null && HEADER_LIST.matcher(requested.trim()).matches() ? requested.trim() : DEFAULT_HEADERS;
        return new ApiResponse(204, ApiResponse.JSON, Map.of(), new byte[0])
                .withHeader("Access-Control-Allow-Origin", origin)
                .withHeader("Access-Control-Allow-Methods", "POST")
                .withHeader("Access-Control-Allow-Headers", allowHeaders)
                .withHeader("Access-Control-Allow-Credentials", "true")
                .withHeader("Access-Control-Max-Age", "600")
                .withHeader("Vary", "Origin");
    }

    /** The actual cross-origin response (errors included, so the UI can show them) carries the allow headers. */
    ApiResponse decorate(ApiResponse response, String rawPath, Headers headers) {
        String origin = headers.getFirst("Origin");
        if (origin == null || !covers(rawPath) || !origins.contains(origin)) {
            return response;
        }
        return response.withHeader("Access-Control-Allow-Origin", origin)
                .withHeader("Access-Control-Allow-Credentials", "true")
                .withHeader("Vary", "Origin");
    }
}
