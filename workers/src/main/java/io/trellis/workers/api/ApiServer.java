package io.trellis.workers.api;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: the JDK's {@code com.sun.net.httpserver} (no dependency to clash with Spark's Jetty, Netty or
 * Jackson). Per request, in this order: match the route (path segments are percent-decoded one by one, so keys
 * holding '/' travel as %2F), authenticate unless the route is public (401), 404/405 for unknown paths or methods,
 * the role check (403), unknown or repeated query parameters (400), the body limit (413) and media type (415), then
 * the handler. Every failure is an RFC 9457 problem document; unexpected exceptions are logged with an incident id
 * and answered 500 with only that id.
 */
public final class ApiServer implements AutoCloseable {
    /** Larger bodies are refused with 413 before they are read. */
    public static final int MAX_BODY_BYTES = 64 * 1024;
    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Route> routes;
    private final Authenticator authenticator;
    private final ApiMetrics metrics;
    private final CorsPolicy cors;

    private ApiServer(HttpServer server, ExecutorService executor, List<Route> routes, Authenticator authenticator, ApiMetrics metrics,
                      CorsPolicy cors) {
        this.server = server;
        this.executor = executor;
        this.routes = List.copyOf(routes);
        this.authenticator = authenticator;
        this.metrics = metrics;
        this.cors = cors;
    }

    /** Binds {@code address} (port 0: a free port) and starts serving with {@code threads} handler threads. */
    public static ApiServer start(InetSocketAddress address, List<Route> routes, Authenticator authenticator, ApiMetrics metrics,
                                  int threads) throws IOException {
        return start(address, routes, authenticator, metrics, threads, CorsPolicy.NONE);
    }

    /** As above, answering browsers of the origins {@code cors} allows on the paths it covers. */
    public static ApiServer start(InetSocketAddress address, List<Route> routes, Authenticator authenticator, ApiMetrics metrics,
                                  int threads, CorsPolicy cors) throws IOException {
        HttpServer http = HttpServer.create(address, 256);
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "trellis-api-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        ApiServer api = new ApiServer(http, executor, routes, authenticator, metrics, cors);
        http.createContext("/", api::exchange);
        http.setExecutor(executor);
        http.start();
        return api;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public URI baseUri() {
        return URI.create("http://" + server.getAddress().getHostString() + ":" + port());
    }

    public List<Route> routes() {
        return routes;
    }

    @Override
    public void close() {
        server.stop(1);
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Match(Route route, Map<String, String> parameters) {}

    private void exchange(HttpExchange ex) {
        long start = System.nanoTime();
        String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
        String routeLabel = "unmatched";
        ApiResponse response;
        if (cors.isPreflight(method, ex.getRequestURI().getRawPath(), ex.getRequestHeaders())) {
            // Browsers send no credentials on a preflight: it is answered before (and without) authentication.
            try {
                response = cors.preflight(ex.getRequestURI().getRawPath(), ex.getRequestHeaders());
            } catch (ApiProblem p) {
                response = problem(p, ex);
            }
            send(ex, response);
            metrics.recordRequest(method, "preflight", response.status(), System.nanoTime() - start);
            return;
        }
        try {
            List<String> segments = decodeSegments(ex.getRequestURI().getRawPath());
            Match match = null;
            Set<String> allowed = new TreeSet<>();
            for (Route r : routes) {
                Map<String, String> params = matchPath(r.segments(), segments);
                if (params != null) {
                    allowed.add(r.method());
                    if (r.method().equals(method)) {
                        match = new Match(r, params);
                    }
                }
            }
            Identity identity = null;
            if (match == null || match.route().access() != Access.PUBLIC) {
                identity = authenticator.authenticate(ex.getRequestHeaders().getFirst("Authorization"));
            }
            if (match == null) {
                if (!allowed.isEmpty()) {
                    throw new ApiProblem(405, "method-not-allowed", "Method not allowed", method + " is not supported on "
                            + ex.getRequestURI().getRawPath() + "; use " + String.join(" or ", allowed) + ".",
                            Map.of("Allow", String.join(", ", allowed)));
                }
                throw ApiProblem.notFound("not-found", "No endpoint at " + ex.getRequestURI().getRawPath()
                        + "; the API's endpoints are listed at GET /openapi.json.");
            }
            Route route = match.route();
            routeLabel = route.path();
            if (!route.access().allows(identity == null ? Set.of() : identity.roles())) {
                throw ApiProblem.forbidden(identity.name() + " may not call " + route.method() + " " + route.path() + ": it needs one of the roles "
                        + route.access().roles().stream().map(io.trellis.metadata.PrincipalRole::dbValue).collect(Collectors.joining(", "))
                        + ", and " + identity.name() + " holds " + (identity.roles().isEmpty() ? "none"
                        : identity.roles().stream().map(io.trellis.metadata.PrincipalRole::dbValue).sorted().collect(Collectors.joining(", ")))
                        + ". Ask an admin to grant the role.");
            }
            Map<String, List<String>> query = parseQuery(ex.getRequestURI().getRawQuery());
            for (String name : query.keySet()) {
                if (!route.queryParameters().contains(name)) {
                    throw ApiProblem.badRequest("Unknown query parameter '" + ApiRequest.clip(name) + "'; " + route.method() + " " + route.path()
                            + (route.queryParameters().isEmpty() ? " takes none." : " takes " + String.join(", ", new TreeSet<>(route.queryParameters())) + "."));
                }
            }
            byte[] body = readBody(ex);
            if (body.length > 0) {
                String type = ex.getRequestHeaders().getFirst("Content-Type");
                String base = type == null ? "" : type.split(";")[0].trim().toLowerCase(Locale.ROOT);
                if (!base.equals("application/json")) {
                    throw new ApiProblem(415, "unsupported-media-type", "Unsupported media type", "The request body must be JSON"
                            + " sent with 'Content-Type: application/json'" + (type == null ? "; the request has no Content-Type." : ", not '"
                            + ApiRequest.clip(type) + "'."));
                }
            }
            response = route.handler().handle(new ApiRequest(route, match.parameters(), query, ex.getRequestHeaders(), body, identity));
        } catch (ApiProblem p) {
            response = problem(p, ex);
        } catch (TrellisException e) {
            response = problem(ApiProblem.of(e), ex);
        } catch (Exception | LinkageError e) {
            String incident = UUID.randomUUID().toString();
            log.error("incident {}: {} {} failed", incident, method, ex.getRequestURI().getRawPath(), e);
            response = problem(new ApiProblem(500, "internal-error", "Internal error",
                    "The server failed to answer this request; the failure is logged as incident " + incident + "."), ex);
        }
        send(ex, cors.decorate(response, ex.getRequestURI().getRawPath(), ex.getRequestHeaders()));
        metrics.recordRequest(method, routeLabel, response.status(), System.nanoTime() - start);
    }

    private static ApiResponse problem(ApiProblem p, HttpExchange ex) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("type", p.type());
        doc.put("title", p.title());
        doc.put("status", p.status());
        doc.put("detail", p.detail());
        doc.put("instance", ex.getRequestURI().getRawPath());
        ApiResponse r = new ApiResponse(p.status(), ApiResponse.PROBLEM_JSON, Map.of(), Json.write(doc));
        for (Map.Entry<String, String> h : p.headers().entrySet()) {
            r = r.withHeader(h.getKey(), h.getValue());
        }
        return r;
    }

    private static void send(HttpExchange ex, ApiResponse response) {
        try (ex) {
            var headers = ex.getResponseHeaders();
            headers.set("Content-Type", response.contentType());
            headers.set("Cache-Control", "no-store");
            headers.set("X-Content-Type-Options", "nosniff");
            response.headers().forEach(headers::set);
            byte[] body = response.body();
            boolean noBody = body.length == 0 || ex.getRequestMethod().equalsIgnoreCase("HEAD");
            ex.sendResponseHeaders(response.status(), noBody ? -1 : body.length);
            if (!noBody) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        } catch (IOException e) {
            log.debug("client went away before the response was sent: {}", e.toString());
        }
    }

    private static byte[] readBody(HttpExchange ex) throws IOException {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            long declared;
            try {
                declared = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw ApiProblem.badRequest("The Content-Length header is not a number.");
            }
            if (declared > MAX_BODY_BYTES) {
                throw tooLarge(ex);
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
            if (body.length > MAX_BODY_BYTES) {
                throw tooLarge(ex);
            }
            return body;
        }
    }

    /**
     * 413, after reading (and dropping) up to 1 MiB more of the body so that a client still sending gets the answer
     * instead of a reset connection; the connection is then closed.
     */
    private static ApiProblem tooLarge(HttpExchange ex) {
        try {
            ex.getRequestBody().readNBytes(1024 * 1024);
        } catch (IOException ignored) {
            // the client stopped sending: nothing more to drain
        }
        return new ApiProblem(413, "payload-too-large", "Payload too large", "The request body is larger than "
                + MAX_BODY_BYTES / 1024 + " KiB; the API's requests are small JSON documents.", Map.of("Connection", "close"));
    }

    private static List<String> decodeSegments(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            throw ApiProblem.badRequest("The request path must start with '/'.");
        }
        List<String> out = new ArrayList<>();
        for (String raw : rawPath.substring(1).split("/", -1)) {
            out.add(decode(raw, "path segment"));
        }
        return out;
    }

    private static String decode(String raw, String what) {
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("A " + what + " has a malformed percent-encoding: '" + ApiRequest.clip(raw) + "'.");
        }
    }

    private static Map<String, List<String>> parseQuery(String rawQuery) {
        Map<String, List<String>> query = new LinkedHashMap<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return query;
        }
        for (String pair : rawQuery.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = URLDecoderPlus.decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : URLDecoderPlus.decode(pair.substring(eq + 1));
            query.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return query;
    }

    /** Query strings use form encoding ('+' is a space). */
    private static final class URLDecoderPlus {
        static String decode(String raw) {
            try {
                return URLDecoder.decode(raw, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ApiProblem.badRequest("The query string has a malformed percent-encoding: '" + ApiRequest.clip(raw) + "'.");
            }
        }
    }

    private static Map<String, String> matchPath(List<String> template, List<String> segments) {
        if (template.size() != segments.size()) {
            return null;
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (int i = 0; i < template.size(); i++) {
            String t = template.get(i);
            String s = segments.get(i);
            if (t.startsWith("{") && t.endsWith("}")) {
                if (s.isEmpty()) {
                    return null;
                }
                params.put(t.substring(1, t.length() - 1), s);
            } else if (!t.equals(s)) {
                return null;
            }
        }
        return params;
    }
}
