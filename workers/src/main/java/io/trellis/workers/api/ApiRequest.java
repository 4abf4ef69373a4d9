package io.trellis.workers.api;

import com.sun.net.httpserver.Headers;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A request matched to its route, after authentication and the role check. */
public final class ApiRequest {
    private final Route route;
    private final Map<String, String> pathParameters;
    private final Map<String, List<String>> query;
    private final Headers headers;
    private final byte[] body;
    private final Identity identity;

    ApiRequest(Route route, Map<String, String> pathParameters, Map<String, List<String>> query, Headers headers, byte[] body,
               Identity identity) {
        this.route = route;
        this.pathParameters = pathParameters;
        this.query = query;
        this.headers = headers;
        this.body = body;
        this.identity = identity;
    }

    /** The caller; null only on {@link Access#PUBLIC} routes. */
    public Identity identity() {
        return identity;
    }

    public Route route() {
        return route;
    }

    public String path(String name) {
        String value = pathParameters.get(name);
        if (value == null) {
            throw new IllegalStateException("route " + route.path() + " has no parameter " + name);
        }
        return value;
    }

    public int pathInt(String name) {
        String value = path(name);
        try {
            int n = Integer.parseInt(value);
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest("Path parameter '" + name + "' must be a positive integer, was '" + clip(value) + "'.");
        }
    }

    public Optional<String> header(String name) {
        return Optional.ofNullable(headers.getFirst(name));
    }

    /** A query parameter given at most once, if given; blank counts as given (and is usually refused by the caller). */
    public Optional<String> query(String name) {
        List<String> values = query.get(name);
        if (values == null) {
            return Optional.empty();
        }
        if (values.size() > 1) {
            throw ApiProblem.badRequest("Query parameter '" + name + "' is given " + values.size() + " times; give it once.");
        }
        return Optional.of(values.get(0));
    }

    public Optional<String> queryText(String name) {
        return query(name).map(v -> {
            if (v.isBlank()) {
                throw ApiProblem.badRequest("Query parameter '" + name + "' is empty; give a value or leave it out.");
            }
            return v;
        });
    }

    public Optional<Long> queryLong(String name, long min, long max) {
        return queryText(name).map(v -> {
            try {
                long n = Long.parseLong(v);
                if (n < min || n > max) {
                    throw new NumberFormatException();
                }
                return n;
            } catch (NumberFormatException e) {
                throw ApiProblem.badRequest("Query parameter '" + name + "' must be an integer from " + min + " to " + max
                        + ", was '" + clip(v) + "'.");
            }
        });
    }

    public Optional<Instant> queryInstant(String name) {
        return queryText(name).map(v -> {
            try {
                return Instant.parse(v);
            } catch (DateTimeParseException e) {
                throw ApiProblem.badRequest("Query parameter '" + name + "' must be an RFC 3339 UTC time such as 2026-11-26T08:00:00Z, was '"
                        + clip(v) + "'.");
            }
        });
    }

    public <E extends Enum<E>> Optional<E> queryEnum(String name, Class<E> type) {
        return queryText(name).map(v -> {
            for (E e : type.getEnumConstants()) {
                if (e.name().equalsIgnoreCase(v)) {
                    return e;
                }
            }
            throw ApiProblem.badRequest("Query parameter '" + name + "' must be one of " + java.util.Arrays.toString(type.getEnumConstants())
                    + ", was '" + clip(v) + "'.");
        });
    }

    /** The body as {@code type}; an absent body is allowed only when {@code type} can be empty (see {@link #bodyOrEmpty}). */
    public <T> T body(Class<T> type) {
        if (body.length == 0) {
            throw ApiProblem.badRequest("This request needs a JSON body (Content-Type: application/json).");
        }
        return Json.read(body, type);
    }

    /** The body as {@code type}, or {@code empty} when the request has no body. */
    public <T> T bodyOrEmpty(Class<T> type, T empty) {
        return body.length == 0 ? empty : Json.read(body, type);
    }

    public byte[] rawBody() {
        return body.clone();
    }

    static String clip(String value) {
        return value.length() > 60 ? value.substring(0, 60) + "…" : value;
    }
}
