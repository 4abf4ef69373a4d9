package io.trellis.workers.bench;

import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.PrincipalRole;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.api.ApiService;
import io.trellis.workers.embedded.EmbeddedPostgresServer;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Throughput of retrain triggers and latency of read endpoints through the real API server on the embedded
 * stack, with the registry seeded to {@code versions} model versions and {@code auditRows} audit rows. Triggers
 * name a model whose source table does not exist, so every accepted run fails at its first Spark step: the
 * figure is what the API accepts (claims the key, starts the workflow, answers), not training throughput.
 */
public final class ApiBenchmark {
    public record Options(int versions, int auditRows, int triggers, int reads, int clients, Path home) {}

    private final PrintStream out;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public ApiBenchmark(PrintStream out) {
        this.out = out;
    }

    public void run(Options o) throws Exception {
        Path home = o.home() != null ? o.home() : Path.of("trellis-data", "bench", "api-" + System.currentTimeMillis());
        Files.createDirectories(home);
        try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(home.resolve("postgres"))) {
            DatabaseConfig db = pg.databaseConfig(16);
            TrellisConfig config = TrellisConfig.load(Optional.empty(), Map.of("TRELLIS_HOME", home.toString(),
                    "TRELLIS_JDBC_URL", db.jdbcUrl(), "TRELLIS_DB_USER", db.user(), "TRELLIS_DB_PASSWORD", db.password() == null ? "" : db.password(),
                    "TRELLIS_DB_POOL_SIZE", "16", "TRELLIS_CODE_VERSION", "bench"));
            try (TrellisRuntime runtime = TrellisRuntime.open(config)) {
                String yaml = SampleModels.customerChurnYaml();
                var spec = ModelSpecLoader.parse(yaml);
                runtime.registry().applyModelSpec(spec.name(), yaml, ModelSpecLoader.sha256(yaml), spec.environments(), "bench");
                runtime.registry().grantRoles("bench", EnumSet.of(PrincipalRole.ML_ENGINEER, PrincipalRole.AUDITOR, PrincipalRole.VIEWER), "bench");
                String token = runtime.apiAccess().createToken("bench", "benchmark", null, "bench").secret();
                long seedStart = System.nanoTime();
                seed(db, spec.name(), o.versions(), o.auditRows());
                out.printf(Locale.ROOT, "seeded %,d versions and %,d audit rows in %.1f s%n", o.versions(), o.auditRows(),
                        (System.nanoTime() - seedStart) / 1e9);
                runtime.client(); // start the embedded Temporal server and workers before timing
                try (ApiService api = ApiService.start(runtime, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64)) {
                    String base = api.server().baseUri().toString();
                    // warm up the JIT, the pool and the Temporal client
                    for (int i = 0; i < 50; i++) {
                        get(base + "/api/v1/models/" + spec.name() + "/versions/" + (1 + i), token);
                    }
                    double triggersPerSecond = triggers(base, spec.name(), token, o.triggers(), o.clients());
                    List<Long> latencies = reads(base, spec.name(), token, o.versions(), o.reads(), o.clients());
                    Collections.sort(latencies);
                    double p50 = latencies.get(latencies.size() / 2) / 1e6;
                    double p99 = latencies.get((int) Math.ceil(latencies.size() * 0.99) - 1) / 1e6;
                    out.printf(Locale.ROOT, "RESULT versions=%d%n", o.versions());
                    out.printf(Locale.ROOT, "RESULT audit_rows=%d%n", o.auditRows());
                    out.printf(Locale.ROOT, "RESULT trigger_per_s=%.1f%n", triggersPerSecond);
                    out.printf(Locale.ROOT, "RESULT read_p50_ms=%.2f%n", p50);
                    out.printf(Locale.ROOT, "RESULT read_p99_ms=%.2f%n", p99);
                }
            }
        }
    }

    private static void seed(DatabaseConfig db, String model, int versions, int auditRows) throws Exception {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement s = c.createStatement()) {
            s.execute("insert into training_runs (run_key, model_id, status, triggered_by, started_at, finished_at)"
                    + " select 'bench/' || g, m.id, 'SUCCEEDED', 'bench', now(), now() from generate_series(1, " + versions + ") g,"
                    + " models m where m.name = '" + model + "'");
            s.execute("insert into model_versions (model_id, version, training_run_id, status, algorithm, params, metrics, gate_results)"
                    + " select r.model_id, row_number() over (order by r.id), r.id, 'REGISTERED', 'logistic_regression',"
                    + " '{\"regParam\":0.01}', jsonb_build_object('auc', 0.8 + random() / 10), '[]'"
                    + " from training_runs r where r.run_key like 'bench/%'");
            s.execute("insert into audit_log (occurred_at, actor, action, outcome, model_name, model_version, message)"
                    + " select now() - (g || ' seconds')::interval, 'actor-' || (g % 50), 'bench.action.' || (g % 20), 'SUCCESS', '"
                    + model + "', 1 + g % " + versions + ", 'seeded row ' || g from generate_series(1, " + auditRows + ") g");
            s.execute("analyze");
        }
    }

    private double triggers(String base, String model, String token, int count, int clients) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger accepted = new AtomicInteger();
        long start = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            futures.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/api/v1/models/" + model + "/retrains"))
                            .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                            .header("Idempotency-Key", "bench-" + i)
                            .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"bench\"}")).build();
                    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 202) {
                        accepted.incrementAndGet();
                    } else {
                        throw new IllegalStateException("trigger answered " + r.statusCode() + ": " + r.body());
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        out.printf(Locale.ROOT, "%,d triggers accepted in %.2f s with %d clients%n", accepted.get(), seconds, clients);
        return accepted.get() / seconds;
    }

    private List<Long> reads(String base, String model, String token, int versions, int count, int clients) throws Exception {
        String m = "/api/v1/models/" + model;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < clients; t++) {
            futures.add(pool.submit(() -> {
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                    int v = 1 + rnd.nextInt(versions);
                    String path = switch (i % 5) {
                        case 0 -> m + "/versions/" + v;
                        case 1 -> m + "/versions/" + v + "/lineage";
                        case 2 -> "/api/v1/runs?model=" + model + "&limit=50&cursor=" + (1 + rnd.nextInt(versions));
                        case 3 -> "/api/v1/audit?model=" + model + "&limit=100&cursor=" + rnd.nextInt(900_000);
                        default -> "/api/v1/audit?actor=actor-" + rnd.nextInt(50) + "&action=bench.action." + rnd.nextInt(20) + "&limit=100";
                    };
                    long start = System.nanoTime();
                    int status = get(base + path, token);
                    latencies.add(System.nanoTime() - start);
                    if (status != 200) {
                        throw new IllegalStateException(path + " answered " + status);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
        return latencies;
    }

    private int get(String url, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
