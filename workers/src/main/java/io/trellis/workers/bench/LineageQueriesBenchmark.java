package io.trellis.workers.bench;

import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.ChainVerification;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.LineageQueries;
import io.trellis.metadata.MetadataStore;
import io.trellis.workers.embedded.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntConsumer;
import java.util.stream.Stream;

/**
 * Latency of the compliance queries on a registry of {@code models × versionsPerModel} model versions (default
 * 100 × 100 = 10,000) and {@code auditRows} hash-chained audit rows (default 1,000,000), generated with SQL
 * {@code generate_series} into a fresh embedded PostgreSQL. Each query runs {@code iterations} times with
 * random arguments (fixed seed) after a warm-up; p50 and p99 are printed per query, then
 * {@code RESULT <query>_p99_ms=…} lines.
 */
public final class LineageQueriesBenchmark {
    /** What to generate and how often to ask. */
    public record Options(int models, int versionsPerModel, long auditRows, int iterations, Path home, boolean keep) {
    }

    private static final String T0 = "TIMESTAMPTZ '2025-01-01 00:00:00+00'";
    private final PrintStream out;

    public LineageQueriesBenchmark(PrintStream out) {
        this.out = out;
    }

    public void run(Options o) {
        Path home = o.home();
        try {
            if (home == null) {
                home = Files.createTempDirectory("trellis-bench-lineage");
            }
            try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(home.resolve("postgres"))) {
                DatabaseConfig db = pg.databaseConfig(4);
                try (MetadataStore store = MetadataStore.open(db)) {
                    long start = System.nanoTime();
                    generate(db, o);
                    out.printf(Locale.ROOT, "generated %,d model versions and %,d audit rows in %.1f s%n",
                            (long) o.models() * o.versionsPerModel(), o.auditRows(), (System.nanoTime() - start) / 1e9);
                    measure(store, o);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (home != null && !o.keep() && o.home() == null) {
                deleteQuietly(home);
            }
        }
    }

    private void generate(DatabaseConfig db, Options o) {
        int m = o.models();
        int v = o.versionsPerModel();
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password()); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("INSERT INTO models (name, spec_yaml, spec_sha256) SELECT 'model-' || i, 'name: model-' || i, 'sha' FROM generate_series(1, " + m + ") i");
            s.execute("INSERT INTO environments (model_id, name, ordinal) SELECT id, e.name, e.ord FROM models,"
                    + " (VALUES ('dev', 0), ('staging', 1), ('production', 2)) e(name, ord)");
            s.execute("INSERT INTO training_runs (run_key, model_id, status, triggered_by, spec_sha256, code_version, started_at, finished_at)"
                    + " SELECT 'retrain/' || mo.name || '/' || k, mo.id, 'SUCCEEDED', 'user-' || (k % 7), 'sha', 'git:' || k,"
                    + T0 + " + k * interval '1 hour', " + T0 + " + k * interval '1 hour' + interval '10 minutes'"
                    + " FROM models mo, generate_series(1, " + v + ") k");
            s.execute("INSERT INTO model_versions (model_id, version, training_run_id, status, algorithm, params, metrics, gate_results,"
                    + " code_version, created_at) SELECT r.model_id, split_part(r.run_key, '/', 3)::int, r.id, 'REGISTERED', 'logistic_regression',"
                    + " '{\"seed\": 42}', jsonb_build_object('auc', 0.7 + random() / 10), '[{\"gate\": \"auc\", \"passed\": true}]', r.code_version,"
                    + " r.finished_at FROM training_runs r");
            s.execute("INSERT INTO dataset_versions (table_path, delta_version, row_count, kind) SELECT p.prefix || mo.name, k - 1, 100000, p.kind"
                    + " FROM models mo, generate_series(1, " + v + ") k,"
                    + " (VALUES ('raw/', 'raw'), ('features/', 'features'), ('predictions/production/', 'predictions')) p(prefix, kind)");
            // run k of a model read raw and features version k-1; version k wrote predictions version k-1 from raw version k-1
            s.execute("INSERT INTO lineage_edges (from_kind, from_id, to_kind, to_id, relation)"
                    + " SELECT 'dataset_version', d.id, 'training_run', r.id, CASE d.kind WHEN 'raw' THEN 'source' ELSE 'features' END"
                    + " FROM training_runs r JOIN models mo ON mo.id = r.model_id"
                    + " JOIN dataset_versions d ON d.table_path IN ('raw/' || mo.name, 'features/' || mo.name)"
                    + "  AND d.delta_version = split_part(r.run_key, '/', 3)::int - 1");
            s.execute("INSERT INTO lineage_edges (from_kind, from_id, to_kind, to_id, relation)"
                    + " SELECT 'training_run', v.training_run_id, 'model_version', v.id, 'produced' FROM model_versions v");
            s.execute("INSERT INTO lineage_edges (from_kind, from_id, to_kind, to_id, relation)"
                    + " SELECT 'model_version', v.id, 'dataset_version', d.id, 'scored' FROM model_versions v JOIN models mo ON mo.id = v.model_id"
                    + " JOIN dataset_versions d ON d.table_path = 'predictions/production/' || mo.name AND d.delta_version = v.version - 1");
            s.execute("INSERT INTO lineage_edges (from_kind, from_id, to_kind, to_id, relation)"
                    + " SELECT 'dataset_version', raw.id, 'dataset_version', p.id, 'scored_from' FROM dataset_versions p"
                    + " JOIN dataset_versions raw ON raw.kind = 'raw' AND raw.delta_version = p.delta_version"
                    + "  AND substr(raw.table_path, 5) = substr(p.table_path, 24) WHERE p.kind = 'predictions'");
            // version k live in staging, then production, for hour k (the last one still live)
            for (String env : List.of("staging", "production")) {
                s.execute("INSERT INTO deployments (environment_id, model_version_id, role, valid_from, valid_to, deployed_by, reason)"
                        + " SELECT e.id, v.id, 'live', " + T0 + " + v.version * interval '1 hour' + interval '" + ("staging".equals(env) ? 20 : 40)
                        + " minutes', CASE WHEN v.version = " + v + " THEN NULL ELSE " + T0 + " + (v.version + 1) * interval '1 hour' + interval '"
                        + ("staging".equals(env) ? 20 : 40) + " minutes' END, 'worker', 'promotion'"
                        + " FROM model_versions v JOIN environments e ON e.model_id = v.model_id AND e.name = '" + env + "'");
            }
            s.execute("INSERT INTO promotions (promotion_key, model_id, model_version_id, target_environment_id, status, requested_by,"
                    + " decided_by, decision, decided_at, started_at, finished_at)"
                    + " SELECT 'promote/' || mo.name || '/v' || v.version || '/production', v.model_id, v.id, e.id, 'DEPLOYED', 'user-' || (v.version % 7),"
                    + " 'approver-' || (v.version % 3), 'APPROVED', v.created_at + interval '30 minutes', v.created_at + interval '15 minutes',"
                    + " v.created_at + interval '40 minutes' FROM model_versions v JOIN models mo ON mo.id = v.model_id"
                    + " JOIN environments e ON e.model_id = v.model_id AND e.name = 'production'");
            c.commit();
            // The audit rows, chained exactly as the trigger would chain them (computed in one pass; the trigger's
            // per-row head update is skipped for the bulk load only), then the head set to the last row.
            s.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_chain");
            s.execute("DO $$ DECLARE r audit_log%ROWTYPE; prev TEXT; seq BIGINT; BEGIN"
                    + " SELECT last_hash, last_seq INTO prev, seq FROM audit_chain_head WHERE id = 1;"
                    + " FOR r IN SELECT nextval('audit_log_id_seq') AS id, " + T0 + " + i * interval '1 second' AS occurred_at,"
                    + "   'user-' || (i % 50) AS actor, (ARRAY['retrain.started', 'model.registered', 'promotion.approved', 'environment.deployed'])[1 + i % 4] AS action,"
                    + "   'SUCCESS' AS outcome, 'model-' || (1 + i % " + m + ") AS model_name, 1 + (i / " + m + ") % " + v + " AS model_version,"
                    + "   'retrain/model-' || (1 + i % " + m + ") || '/' || (1 + (i / " + m + ") % " + v + ") AS run_key, 'generated entry ' || i AS message,"
                    + "   jsonb_build_object('i', i) AS details, NULL::bigint AS chain_seq, NULL::text AS prev_hash, NULL::text AS row_hash"
                    + "   FROM generate_series(1, " + o.auditRows() + ") i LOOP"
                    + "  seq := seq + 1; r.chain_seq := seq; r.prev_hash := prev; r.row_hash := audit_log_row_hash(prev, r); prev := r.row_hash;"
                    + "  INSERT INTO audit_log VALUES (r.*);"
                    + " END LOOP;"
                    + " UPDATE audit_chain_head SET last_seq = seq, last_hash = prev WHERE id = 1; END $$");
            s.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_chain");
            c.commit();
            c.setAutoCommit(true);
            s.execute("ANALYZE");
        } catch (SQLException e) {
            throw new IllegalStateException("could not generate the benchmark data: " + e.getMessage(), e);
        }
    }

    private void measure(MetadataStore store, Options o) {
        LineageQueries q = store.lineageQueries();
        Random random = new Random(42);
        int m = o.models();
        int v = o.versionsPerModel();
        Instant t0 = Instant.parse("2025-01-01T00:00:00Z");
        List<String[]> results = new ArrayList<>();
        results.add(time("upstream_of_version", o.iterations(), random, i -> q.upstream("model-" + (1 + random.nextInt(m)), 1 + random.nextInt(v))));
        results.add(time("downstream_of_dataset", o.iterations(), random, i -> q.downstream("raw/model-" + (1 + random.nextInt(m)))));
        results.add(time("downstream_of_dataset_up_to_version", o.iterations(), random,
                i -> q.downstream("raw/model-" + (1 + random.nextInt(m)), (long) random.nextInt(v))));
        results.add(time("live_at_instant", o.iterations(), random,
                i -> q.liveAt("model-" + (1 + random.nextInt(m)), t0.plusSeconds(random.nextInt(v * 3600 + 7200)))));
        results.add(time("prediction_producer", o.iterations(), random,
                i -> q.predictionProducers("predictions/production/model-" + (1 + random.nextInt(m)), random.nextInt(v))));
        results.add(time("audit_trail_of_model", o.iterations(), random,
                i -> store.registry().auditTrail(AuditQuery.forModel("model-" + (1 + random.nextInt(m))).withLimit(100))));
        ChainVerification[] last = new ChainVerification[1];
        results.add(time("audit_verify_chain", Math.max(3, o.iterations() / 100), random, i -> last[0] = store.auditChain().verify()));
        if (!last[0].intact()) {
            throw new IllegalStateException("the generated chain does not verify: " + last[0].summary());
        }
        out.println("audit chain " + last[0].summary());
        for (String[] r : results) {
            out.println("RESULT " + r[0] + "_p50_ms=" + r[1]);
        }
        for (String[] r : results) {
            out.println("RESULT " + r[0] + "_p99_ms=" + r[2]);
        }
    }

    private String[] time(String name, int iterations, Random random, IntConsumer query) {
        for (int i = 0; i < Math.min(20, iterations); i++) {
            query.accept(i);
        }
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            query.accept(i);
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        java.util.Arrays.sort(ms);
        String p50 = String.format(Locale.ROOT, "%.2f", percentile(ms, 50));
        String p99 = String.format(Locale.ROOT, "%.2f", percentile(ms, 99));
        out.printf(Locale.ROOT, "%-38s n=%-5d p50 %8s ms   p99 %8s ms%n", name, iterations, p50, p99);
        return new String[] {name, p50, p99};
    }

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp folder is harmless
        }
    }
}
