package io.trellis.activities.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.OpenLineageStore.StoredEvent;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.workflows.activities.DatasetRef;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The emitter against a real store and an HTTP endpoint on loopback that answers badly: an error status is recorded as
 * a FAILED delivery with its status, a hanging endpoint delays the step by at most the bounded wait and its timeout is
 * recorded, and a repeated event of the same attempt is stored once while a retry is a new run.
 */
class OpenLineageEmitterIT {
    private static MetadataStore store;
    private static HttpServer endpoint;
    private static final CountDownLatch release = new CountDownLatch(1);

    @BeforeAll
    static void start() throws Exception {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(OpenLineageEmitterIT.class));
        endpoint = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        endpoint.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        endpoint.createContext("/broken/api/v1/lineage", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                body.readAllBytes();
            }
            byte[] answer = "database full".getBytes();
            exchange.sendResponseHeaders(503, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        endpoint.createContext("/slow/api/v1/lineage", exchange -> {
            try (InputStream body = exchange.getRequestBody()) {
                body.readAllBytes();
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        endpoint.start();
    }

    @AfterAll
    static void stop() {
        release.countDown();
        endpoint.stop(0);
        store.close();
    }

    private static OpenLineageEmitter emitter(String path) {
        return OpenLineageEmitter.storing(store.openLineage(), "trellis", "test", Optional.of(URI.create(
                "http://127.0.0.1:" + endpoint.getAddress().getPort() + path)), Optional.empty());
    }

    private static OpenLineageEmitter.Attempt attempt(String workflowId, int n) {
        return new OpenLineageEmitter.Attempt(workflowId, "run-1", "Retrain", "7", "SparkBuildFeatures", n);
    }

    @Test
    void anErrorStatusIsRecordedAsAFailedDeliveryAndTheEventIsKept() {
        OpenLineageEmitter.Step step = emitter("/broken").start(attempt("retrain/m/broken", 1), "retrain/m/broken", "m",
                List.of(LineageDataset.delta(new DatasetRef("/lake/raw/m", 3, 10))));
        step.complete(List.of(LineageDataset.delta(new DatasetRef("/lake/raw/m", 3, 10))),
                List.of(LineageDataset.delta(new DatasetRef("/lake/features/m", 0, 10))));

        List<StoredEvent> events = store.openLineage().events("retrain/m/broken");
        assertThat(events).extracting(StoredEvent::eventType).containsExactly("START", "COMPLETE");
        assertThat(events).allSatisfy(e -> {
            assertThat(e.deliveryStatus()).isEqualTo("FAILED");
            assertThat(e.deliveryHttpStatus()).isEqualTo(503);
            assertThat(e.deliveryError()).isEqualTo("HTTP 503: database full");
            assertThat(e.deliveryEndpoint()).endsWith("/broken/api/v1/lineage");
        });
    }

    @Test
    void aHangingEndpointDelaysAStepByTheBoundedWaitOnlyAndTheTimeoutIsRecorded() throws Exception {
        OpenLineageEmitter emitter = emitter("/slow");
        long started = System.nanoTime();
        emitter.start(attempt("retrain/m/slow", 1), "retrain/m/slow", "m", List.of());
        Duration waited = Duration.ofNanos(System.nanoTime() - started);
        assertThat(waited).isLessThan(OpenLineageEmitter.MAX_WAIT.plusSeconds(3));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (store.openLineage().events("retrain/m/slow").get(0).deliveryStatus() == null && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(store.openLineage().events("retrain/m/slow")).singleElement().satisfies(e -> {
            assertThat(e.deliveryStatus()).isEqualTo("FAILED");
            assertThat(e.deliveryHttpStatus()).isNull();
            assertThat(e.deliveryError()).startsWith("HttpTimeoutException");
        });
    }

    @Test
    void theSameAttemptEmittingAgainStoresNothingNewWhileARetryIsARunOfItsOwn() {
        OpenLineageEmitter emitter = OpenLineageEmitter.storing(store.openLineage(), "trellis", "test", Optional.empty(), Optional.empty());
        emitter.start(attempt("retrain/m/again", 1), "retrain/m/again", "m", List.of());
        emitter.start(attempt("retrain/m/again", 1), "retrain/m/again", "m", List.of());
        emitter.start(attempt("retrain/m/again", 2), "retrain/m/again", "m", List.of());

        List<StoredEvent> events = store.openLineage().events("retrain/m/again");
        assertThat(events).hasSize(2);
        assertThat(events.get(0).runId()).isEqualTo(OpenLineageEmitter.attemptRunId("retrain/m/again", "run-1", "7", 1))
                .isNotEqualTo(events.get(1).runId());
        assertThat(events).extracting(StoredEvent::parentRunId).containsOnly(OpenLineageEmitter.workflowRunUuid("retrain/m/again", "run-1"));
        assertThat(events).allSatisfy(e -> assertThat(e.deliveryAttempts()).isZero());
    }
}
