package io.trellis.workers;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The worker's probe endpoints against a real runtime: shared PostgreSQL, embedded Temporal, real workers. */
class WorkerHealthServerIT {
    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> send(int port, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void healthFollowsTheWorkersAndReadinessAlsoPostgresAndTemporal() throws Exception {
        try (TrellisRuntime runtime = TrellisRuntime.open(TestingTrellisConfig.forTestClass(WorkerHealthServerIT.class));
             WorkerHealthServer health = WorkerHealthServer.start(runtime, new InetSocketAddress("127.0.0.1", 0))) {
            int port = health.port();
            assertThat(send(port, "GET", "/healthz")).satisfies(r -> {
                assertThat(r.statusCode()).isEqualTo(503);
                assertThat(r.body()).isEqualTo("{\"status\":\"DOWN\",\"queues\":[],\"checks\":{\"workers\":\"DOWN\"}}");
            });

            runtime.startWorkers();
            assertThat(send(port, "GET", "/healthz")).satisfies(r -> {
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("{\"status\":\"UP\",\"queues\":[\"trellis-orchestration\",\"trellis-spark\"],\"checks\":{\"workers\":\"UP\"}}");
            });
            assertThat(send(port, "GET", "/readyz")).satisfies(r -> {
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("{\"status\":\"UP\",\"queues\":[\"trellis-orchestration\",\"trellis-spark\"],"
                        + "\"checks\":{\"workers\":\"UP\",\"postgres\":\"UP\",\"temporal\":\"UP\",\"spark\":\"UP\"}}");
            });
            assertThat(send(port, "GET", "/metrics").statusCode()).isEqualTo(404);
            assertThat(send(port, "POST", "/healthz")).satisfies(r -> {
                assertThat(r.statusCode()).isEqualTo(405);
                assertThat(r.headers().firstValue("Allow")).contains("GET, HEAD");
            });
        }
    }
}
