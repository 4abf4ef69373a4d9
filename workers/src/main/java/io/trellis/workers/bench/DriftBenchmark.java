package io.trellis.workers.bench;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.SparkSessions;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.monitor.DriftComparison;
import io.trellis.spark.monitor.DriftJob;
import io.trellis.spark.monitor.ReferenceProfile;
import io.trellis.spark.monitor.WindowProfile;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.scoring.BatchScoringJob;
import io.trellis.spark.scoring.PredictionsTable;
import io.trellis.spark.scoring.ScoringModel;
import io.trellis.spark.scoring.ScoringReport;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spark.train.TrainJob;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.SampleModels;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The cost of one monitoring pass against a plain scan of the same data: on the sample churn table (20 features),
 * the reference pass over the training snapshot (binning every feature, scoring with the version) and the current pass
 * over the latest window (binning every feature, reading the live version's stored scores from the predictions table
 * that batch scoring wrote, joining the window's labels on the key: one counting job), each against {@code count()}
 * of the same rows (for the current pass: the window and the predictions run), alternating and repeated; medians
 * reported. For comparison also the same pass with the plain SQL label join it used before (aggregate + sort-merge
 * join), the pass that re-scores the window with the live model (the fallback when nothing is stored) and the pass
 * without scores. Ends with {@code RESULT name=value} lines.
 */
public final class DriftBenchmark {
    private final PrintStream out;

    public DriftBenchmark(PrintStream out) {
        this.out = out;
    }

    /** {@code currentOnly}: time only the current pass (and its scan, the SQL-join and unscored variants), not the reference or re-scoring passes. */
    public record Options(long rows, int days, int repeat, String master, boolean currentOnly) {}

    public void run(Options o) {
        Path home;
        try {
            home = Files.createTempDirectory("trellis-bench-drift");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SparkSession spark = SparkSessions.local("trellis-bench-drift", o.master());
        try {
            ModelSpec spec = SampleModels.customerChurn();
            String table = home.resolve("lake/raw/customer_churn").toString();
            int trainingDays = Math.max(1, o.days() * 7 / 10);
            out.printf(Locale.ROOT, "generating %,d rows in %d daily batches (the last %d drift)...%n", o.rows(), o.days(),
                    o.days() - trainingDays);
            SampleDataJob.run(spark, SampleDataOptions.defaults(table).withRows(o.rows()).withDays(o.days()).withDrift(trainingDays, 1.0));
            DatasetVersion snapshot = new DatasetVersion(table, trainingDays - 1L);
            DatasetVersion latest = new DatasetVersion(table, DeltaTables.latestVersion(spark, table));
            out.println("training the model on the first " + trainingDays + " days (untimed)...");
            String features = home.resolve("lake/features").toString();
            DatasetVersion fv = new DatasetVersion(features, FeatureJob.run(spark, spec, snapshot, features, "bench").version());
            String model = TrainJob.run(spark, spec, fv, home.resolve("model").toString()).modelPath();
            ScoringWindow window = new ScoringWindow(spec.scoring().timeColumn(), spec.scoring().windowDays());
            // Batch scoring writes the live version's scores of the window (untimed): what monitoring reads.
            String predictionsPath = home.resolve("lake/predictions/customer-churn/production").toString();
            out.println("batch scoring the window into " + predictionsPath + " (untimed)...");
            ScoringReport scored = BatchScoringJob.run(spark, spec, latest, window, new ScoringModel(1, model), predictionsPath, "bench-score");
            // What the monitoring activity gets from the registry (the run's scoring.completed audit row, one SQL query in the
            // registry step before the Spark step): the run key, the source version it scored. The Spark pass reads that run.
            DriftJob.Predictions predictions = new DriftJob.Predictions(predictionsPath, 1,
                    new DriftJob.StoredRun("bench-score", java.time.Instant.now().toString(), table, scored.sourceVersion()));
            // Without a recorded run (what ran before the registry lookup): the run found in the table with one aggregate.
            DriftJob.Predictions unrecorded = new DriftJob.Predictions(predictionsPath, 1);
            DatasetVersion predictionsVersion = new DatasetVersion(predictionsPath, DeltaTables.latestVersion(spark, predictionsPath));

            // Untimed warm-up of both paths (JIT, first Delta reads).
            ReferenceProfile reference = DriftJob.reference(spark, spec, snapshot, model);
            DriftJob.current(spark, spec, latest, window, reference, predictions, null);
            DriftJob.current(spark, spec, latest, window, reference, predictions, null, DriftJob.Join.SQL, DriftJob.Lookup.AGGREGATE, null);
            DriftJob.current(spark, spec, latest, window, reference, unrecorded, null, DriftJob.Join.ONE_SHUFFLE,
                    DriftJob.Lookup.FILE_STATS, null);
            DriftJob.current(spark, spec, latest, window, reference, unrecorded, null);
            long windowRows = window.select(spark, latest).rows().count();
            long predictionRows = scanPredictions(spark, predictionsVersion);
            long snapshotRows = DeltaTables.read(spark, snapshot).count();

            List<Double> refPass = new ArrayList<>();
            List<Double> refScan = new ArrayList<>();
            List<Double> curPass = new ArrayList<>();
            List<Double> curScan = new ArrayList<>();
            List<Double> curUnscored = new ArrayList<>();
            List<Double> curRescored = new ArrayList<>();
            List<Double> curSqlJoin = new ArrayList<>();
            List<Double> curFileStats = new ArrayList<>();
            List<Double> curTableLookup = new ArrayList<>();
            DriftComparison comparison = null;
            for (int round = 1; round <= o.repeat(); round++) {
                if (!o.currentOnly()) {
                    refScan.add(time(() -> DeltaTables.read(spark, snapshot).count()));
                    refPass.add(time(() -> DriftJob.reference(spark, spec, snapshot, model)));
                }
                // The scan: count() of the same windows the pass reads, the source window and the predictions run.
                SparkWork.Counter scanWork = SparkWork.start(spark);
                double[] scanParts = new double[3];
                curScan.add(time(() -> {
                    long t0 = System.nanoTime();
                    ScoringWindow.Selection s = window.select(spark, latest);
                    long t1 = System.nanoTime();
                    s.rows().count();
                    long t2 = System.nanoTime();
                    scanPredictions(spark, predictionsVersion);
                    scanParts[0] = (t1 - t0) / 1e9;
                    scanParts[1] = (t2 - t1) / 1e9;
                    scanParts[2] = (System.nanoTime() - t2) / 1e9;
                }));
                out.printf(Locale.ROOT, "  scan phases: bounds %.2f s, window count %.2f s, predictions count %.2f s; %s%n",
                        scanParts[0], scanParts[1], scanParts[2], scanWork.stop());
                // The pass, and the same pass with the plain SQL label join it replaced (aggregate + sort-merge join), in
                // alternating order so that neither always runs second.
                WindowProfile[] current = new WindowProfile[1];
                Runnable pass = () -> current[0] = timedPass(spark, "pass", curPass, timings -> DriftJob.current(spark, spec, latest,
                        window, reference, predictions, null, DriftJob.Join.ONE_SHUFFLE, DriftJob.Lookup.AGGREGATE, timings));
                // The same pass with the latest run looked up in the predictions table (no recorded run), by the whole-table
                // aggregate, and with the window's bounds and the latest run looked up over the files Delta's statistics leave.
                Runnable tableLookup = () -> timedPass(spark, "table-lookup pass", curTableLookup, timings -> DriftJob.current(spark,
                        spec, latest, window, reference, unrecorded, null, DriftJob.Join.ONE_SHUFFLE, DriftJob.Lookup.AGGREGATE, timings));
                Runnable fileStats = () -> timedPass(spark, "file-statistics lookups pass", curFileStats, timings -> DriftJob.current(spark,
                        spec, latest, window, reference, unrecorded, null, DriftJob.Join.ONE_SHUFFLE, DriftJob.Lookup.FILE_STATS, timings));
                Runnable sqlJoin = () -> curSqlJoin.add(time(() ->
                        DriftJob.current(spark, spec, latest, window, reference, predictions, null, DriftJob.Join.SQL, DriftJob.Lookup.AGGREGATE, null)));
                if (round % 2 == 1) {
                    pass.run();
                    tableLookup.run();
                    fileStats.run();
                    sqlJoin.run();
                } else {
                    sqlJoin.run();
                    fileStats.run();
                    tableLookup.run();
                    pass.run();
                }
                comparison = DriftComparison.of(reference, current[0], 0.1, 0.2);
                if (!o.currentOnly()) {
                    // The old way: the live model re-scores the window (what runs when no predictions are stored).
                    curRescored.add(time(() -> DriftJob.current(spark, spec, latest, window, reference, model)));
                }
                // The same pass without scores: what binning and counting all 20 features costs on its own.
                curUnscored.add(time(() -> DriftJob.current(spark, spec, latest, window, reference, null)));
                int r = round - 1;
                out.printf(Locale.ROOT, "round %d: %scurrent pass %.2f s (run looked up in the table %.2f s, file-statistics lookups %.2f s, SQL label join %.2f s, %sunscored"
                        + " %.2f s) vs scan %.2f s (ratio %.2f)%n", round,
                        o.currentOnly() ? "" : String.format(Locale.ROOT, "reference pass %.2f s vs scan %.2f s; ", refPass.get(r), refScan.get(r)),
                        curPass.get(r), curTableLookup.get(r), curFileStats.get(r), curSqlJoin.get(r),
                        o.currentOnly() ? "" : String.format(Locale.ROOT, "re-scoring %.2f s, ", curRescored.get(r)),
                        curUnscored.get(r), curScan.get(r), curPass.get(r) / curScan.get(r));
            }
            long significant = comparison.features().stream().filter(f -> f.severity() == DriftComparison.Severity.SIGNIFICANT).count();
            double monitoring = median(curPass);
            double scan = median(curScan);
            out.printf(Locale.ROOT, "RESULT rows=%d%n", o.rows());
            out.printf(Locale.ROOT, "RESULT features=%d%n", spec.features().all().size());
            out.printf(Locale.ROOT, "RESULT snapshot_rows=%d%n", snapshotRows);
            out.printf(Locale.ROOT, "RESULT window_rows=%d%n", windowRows);
            out.printf(Locale.ROOT, "RESULT prediction_rows=%d%n", predictionRows);
            out.printf(Locale.ROOT, "RESULT scores_from=%s%n", comparison.predictionPsi() == null ? "none" : "predictions table");
            out.printf(Locale.ROOT, "RESULT significant_features=%d%n", significant);
            if (!o.currentOnly()) {
                out.printf(Locale.ROOT, "RESULT reference_pass_seconds=%.3f%n", median(refPass));
                out.printf(Locale.ROOT, "RESULT reference_scan_seconds=%.3f%n", median(refScan));
                out.printf(Locale.ROOT, "RESULT reference_scan_ratio=%.2f%n", median(refPass) / median(refScan));
            }
            out.printf(Locale.ROOT, "RESULT drift_pass_seconds=%.3f%n", monitoring);
            out.printf(Locale.ROOT, "RESULT drift_pass_table_lookup_seconds=%.3f%n", median(curTableLookup));
            out.printf(Locale.ROOT, "RESULT table_lookup_scan_ratio=%.2f%n", median(curTableLookup) / scan);
            out.printf(Locale.ROOT, "RESULT drift_pass_file_stats_lookups_seconds=%.3f%n", median(curFileStats));
            out.printf(Locale.ROOT, "RESULT file_stats_lookups_scan_ratio=%.2f%n", median(curFileStats) / scan);
            out.printf(Locale.ROOT, "RESULT drift_pass_sql_join_seconds=%.3f%n", median(curSqlJoin));
            out.printf(Locale.ROOT, "RESULT sql_join_scan_ratio=%.2f%n", median(curSqlJoin) / scan);
            if (!o.currentOnly()) {
                out.printf(Locale.ROOT, "RESULT drift_pass_rescoring_seconds=%.3f%n", median(curRescored));
                out.printf(Locale.ROOT, "RESULT rescoring_scan_ratio=%.2f%n", median(curRescored) / scan);
            }
            out.printf(Locale.ROOT, "RESULT drift_pass_unscored_seconds=%.3f%n", median(curUnscored));
            out.printf(Locale.ROOT, "RESULT unscored_scan_ratio=%.2f%n", median(curUnscored) / scan);
            out.printf(Locale.ROOT, "RESULT scan_seconds=%.3f%n", scan);
            out.printf(Locale.ROOT, "RESULT drift_scan_ratio=%.2f%n", monitoring / scan);
        } finally {
            spark.stop();
            deleteTree(home);
        }
    }

    /** Runs one pass, adds its seconds to {@code seconds} and prints its phases and Spark work under {@code label}. */
    private WindowProfile timedPass(SparkSession spark, String label, List<Double> seconds,
                                    java.util.function.Function<DriftJob.Timings, WindowProfile> body) {
        DriftJob.Timings timings = new DriftJob.Timings();
        SparkWork.Counter work = SparkWork.start(spark);
        WindowProfile[] profile = new WindowProfile[1];
        seconds.add(time(() -> profile[0] = body.apply(timings)));
        out.println("  " + label + " phases: " + phases(timings) + "; " + work.stop());
        return profile[0];
    }

    /** count() of the predictions run the pass reads (the live version's latest run; here the only one). */
    private static long scanPredictions(SparkSession spark, DatasetVersion predictions) {
        return DeltaTables.read(spark, predictions).where(org.apache.spark.sql.functions.col(PredictionsTable.MODEL_VERSION).equalTo(1)
                .and(org.apache.spark.sql.functions.col(PredictionsTable.RUN_KEY).equalTo("bench-score"))).count();
    }

    private static String phases(DriftJob.Timings timings) {
        List<String> parts = new ArrayList<>();
        timings.seconds().forEach((phase, s) -> parts.add(String.format(Locale.ROOT, "%s %.2f s", phase, s)));
        return String.join(", ", parts);
    }

    private static double time(Runnable body) {
        long start = System.nanoTime();
        body.run();
        return (System.nanoTime() - start) / 1e9;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // leftovers in the temp folder are harmless
        }
    }
}
