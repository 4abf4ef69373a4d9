package io.trellis.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.metadata.testing.TestingPostgreSqlServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Version numbers stay dense and unique when runs of one model register at the same moment. */
class ConcurrentRegistrationTest {
    private static final int RUNS = 8;
    private static MetadataStore store;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(ConcurrentRegistrationTest.class));
    }

    @AfterAll
    static void close() {
        store.close();
    }

    @Test
    void concurrentRegistrationsGetVersionsOneToEight() throws Exception {
        Registry registry = store.registry();
        registry.applyModelSpec("busy", "name: busy", "sha", null, "alice");
        List<String> runKeys = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            String runKey = "retrain/busy/" + i;
            registry.startRun(runKey, "wf", "busy", "schedule", null, "sha", "c1");
            // Runs of one model never overlap; a late (retried) registration after its run closed still races others.
            registry.finishRun(runKey, RunStatus.FAILED, "register", "closed before registering, for the race below", "schedule");
            runKeys.add(runKey);
        }

        ExecutorService pool = Executors.newFixedThreadPool(RUNS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<RegisteredVersion>> results = new ArrayList<>();
            for (String runKey : runKeys) {
                results.add(pool.submit(() -> {
                    start.await();
                    return registry.registerModelVersion(new ModelVersionRegistration(runKey, "lr", "s3://a/" + runKey, "sha",
                            1L, Map.of(), Map.of("auc", 0.8), null, null, List.of(), ModelVersionStatus.REGISTERED, "c1", "worker"));
                }));
            }
            start.countDown();
            List<Integer> versions = new ArrayList<>();
            for (Future<RegisteredVersion> result : results) {
                RegisteredVersion registered = result.get(60, TimeUnit.SECONDS);
                assertThat(registered.created()).isTrue();
                versions.add(registered.version());
            }
            assertThat(versions).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6, 7, 8);
        } finally {
            pool.shutdownNow();
        }

        assertThat(registry.versions("busy")).extracting(ModelVersionRecord::version).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(registry.versions("busy")).extracting(ModelVersionRecord::runKey).doesNotHaveDuplicates();
        // Retrying every registration afterwards creates nothing new.
        for (String runKey : runKeys) {
            assertThat(registry.registerModelVersion(new ModelVersionRegistration(runKey, "lr", "s3://a/" + runKey, "sha",
                    1L, Map.of(), Map.of("auc", 0.8), null, null, List.of(), ModelVersionStatus.REGISTERED, "c1", "worker")).created())
                    .isFalse();
        }
        assertThat(registry.auditTrail(AuditQuery.forModel("busy")))
                .filteredOn(e -> e.action().equals("model.registered")).hasSize(RUNS);
    }
}
