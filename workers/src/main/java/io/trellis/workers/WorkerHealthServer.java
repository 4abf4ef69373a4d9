package io.trellis.workers;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Liveness and readiness of a worker process for Kubernetes probes ({@code trellis worker --health-port}):
 * {@code GET /healthz} is 200 while the Temporal workers of every configured task queue run (503 before they start and
 * once shutdown began); {@code GET /readyz} is 200 when, in addition, PostgreSQL and the Temporal frontend answer and,
 * for a worker of the Spark queue, its Spark session runs. Both list the task queues polled ({@code "queues"}). A 503
 * names what is down; the cause goes to the log only. Nothing else is served.
 */
public final class WorkerHealthServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkerHealthServer.class);
    private final HttpServer server;
    private final TrellisRuntime runtime;
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "worker-health");
        t.setDaemon(true);
        return t;
    });

    private WorkerHealthServer(HttpServer server, TrellisRuntime runtime) {
        this.server = server;
        this.runtime = runtime;
    }

    public static WorkerHealthServer start(TrellisRuntime runtime, InetSocketAddress address) {
        try {
            HttpServer server = HttpServer.create(address, 16);
            WorkerHealthServer health = new WorkerHealthServer(server, runtime);
            server.createContext("/", health::handle);
            server.setExecutor(health.executor);
            server.start();
            return health;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve worker health on " + address + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/healthz") && !path.equals("/readyz")) {
                respond(exchange, 404, "{\"status\":\"NOT_FOUND\"}");
                return;
            }
            if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(exchange, 405, "{\"status\":\"METHOD_NOT_ALLOWED\"}");
                return;
            }
            Map<String, String> checks = new LinkedHashMap<>();
            List<String> polled = runtime.pollingQueues();
            // Up only when every configured queue has its worker (trellis.worker.queues).
            checks.put("workers", runtime.workersRunning() && polled.equals(runtime.config().workerQueues().taskQueues()) ? "UP" : "DOWN");
            if (path.equals("/readyz")) {
                checks.put("postgres", check("postgres", () -> runtime.queries().ping()));
                checks.put("temporal", check("temporal", () -> runtime.client().getWorkflowServiceStubs().blockingStub()
                        .withDeadlineAfter(3, TimeUnit.SECONDS)
                        .getSystemInfo(io.temporal.api.workflowservice.v1.GetSystemInfoRequest.getDefaultInstance())));
                if (runtime.config().workerQueues().pollsSpark()) {
                    // Only a worker of the Spark queue needs the session; an orchestration-only worker has none.
                    checks.put("spark", runtime.sparkSessionRunning() ? "UP" : "DOWN");
                }
            }
            boolean up = checks.values().stream().allMatch("UP"::equals);
            String body = "{\"status\":\"" + (up ? "UP" : "DOWN") + "\",\"queues\":[" + polled.stream().map(q -> "\"" + q + "\"")
                    .collect(Collectors.joining(",")) + "],\"checks\":{" + checks.entrySet().stream()
                    .map(e -> "\"" + e.getKey() + "\":\"" + e.getValue() + "\"").collect(Collectors.joining(",")) + "}}";
            respond(exchange, up ? 200 : 503, body);
        }
    }

    private static String check(String name, Runnable probe) {
        try {
            probe.run();
            return "UP";
        } catch (RuntimeException e) {
            log.warn("readiness: {} is down: {}", name, e.toString());
            return "DOWN";
        }
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
