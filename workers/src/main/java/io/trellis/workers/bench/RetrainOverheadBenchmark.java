package io.trellis.workers.bench;

import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowStub;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.evaluate.EvaluationReport;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.features.FeatureReport;
import io.trellis.spark.monitor.DriftJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.sample.SampleDataReport;
import io.trellis.spark.train.TrainJob;
import io.trellis.spark.validate.SnapshotReport;
import io.trellis.spark.validate.ValidateJob;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.Metric;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.spec.TrellisException;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RunStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * Orchestration overhead of one retrain: the full lifecycle through Trellis (Temporal workflow, registry
 * activities on PostgreSQL, artifact store) against the same five Spark job cores called directly (validate,
 * features, train, evaluate, and the training snapshot's reference profile for monitoring), on the same generated
 * data, in the same JVM and Spark session.
 *
 * <p>Order: start the embedded stack, generate the sample data and register the sample spec (untimed), one
 * untimed warm-up of the bare path (the first Delta read in a fresh JVM is slow and the JIT is cold), then the
 * timed bare path, then the timed Trellis run. Each bare run and the Trellis run write a feature table of
 * their own that did not exist before, so every path does the same first write. The Trellis run has no
 * champion (a fresh registry), so its evaluation scores the candidate only, as the bare path does.
 *
 * <p>Prints progress as it goes and ends with {@code RESULT name=value} lines (after the stack is shut down
 * and, unless kept, the home folder deleted).
 */
public final class RetrainOverheadBenchmark {
    /** {@code home} null: a fresh folder is made. {@code keepHome} false: the home is deleted at the end. */
    public record Options(long rows, int days, long seed, int repeat, Path home, boolean keepHome, String actor) {
        public Options {
            if (repeat < 1) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "--repeat must be at least 1, got " + repeat);
            }
            if (rows < 1) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "ROWS must be at least 1, got " + rows);
            }
            if (days < 1 || days > rows) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST,
                        "--days must be between 1 and ROWS (" + rows + "), got " + days);
            }
        }
    }

    /** Wall times of the five Spark steps of one bare run, in seconds, and the candidate's metrics. */
    record BareRun(Map<String, Double> stepSeconds, double totalSeconds, Map<String, Double> metrics) {}

    /** One Trellis run: total wall time, per-activity-type time from the workflow history, the result. */
    record TrellisRun(double totalSeconds, Map<String, Double> activitySeconds, RetrainResult result) {}

    private final PrintStream out;
    private final long startedNanos = System.nanoTime();

    public RetrainOverheadBenchmark(PrintStream out) {
        this.out = out;
    }

    public void run(Options options) {
        Path home = prepareHome(options.home());
        progress("home " + home + (options.keepHome() ? " (kept at the end)" : " (deleted at the end)"));
        progress(String.format(Locale.ROOT, "rows %,d in %d daily batches, seed %d; JVM max heap %,d MiB, %d cores",
                options.rows(), options.days(), options.seed(), Runtime.getRuntime().maxMemory() >> 20,
                Runtime.getRuntime().availableProcessors()));
        progress("order: start stack, generate data (untimed), bare warm-up (untimed), then " + options.repeat() + " rounds of bare (timed) and trellis (timed); medians reported");

        Map<String, String> results = new LinkedHashMap<>();
        results.put("rows", Long.toString(options.rows()));
        results.put("days", Integer.toString(options.days()));
        try {
            measure(options, home, results);
        } finally {
            if (options.keepHome()) {
                progress("kept " + home);
            } else {
                deleteTree(home);
                progress("deleted " + home);
            }
        }
        out.println();
        results.forEach((k, v) -> out.println("RESULT " + k + "=" + v));
        out.flush();
    }

    private void measure(Options options, Path home, Map<String, String> results) {
        long t = System.nanoTime();
        progress("starting the embedded stack (PostgreSQL, Temporal test server, workers, Spark local)");
        // TRELLIS_COSTS_ACCOUNTING=false measures the overhead without resource accounting (for the with/without ratio).
        TrellisConfig config = TrellisConfig.load(java.util.Optional.empty(), Map.of("TRELLIS_HOME", home.toString(),
                "TRELLIS_COSTS_ACCOUNTING", System.getenv().getOrDefault("TRELLIS_COSTS_ACCOUNTING", "true")));
        results.put("cost_accounting", String.valueOf(config.costAccounting()));
        try (TrellisRuntime runtime = TrellisRuntime.open(config)) {
            SparkSession spark = runtime.spark();
            // Temporal and the in-process workers may start on first use: start them now, off the timed run's clock.
            runtime.client();
            runtime.startWorkers();
            progress(String.format(Locale.ROOT, "stack started in %.1f s (Spark master %s)", seconds(t), spark.sparkContext().master()));
            results.put("startup_seconds", fmt(seconds(t)));

            String yaml = SampleModels.customerChurnYaml();
            ModelSpec spec = SampleModels.customerChurn();
            String sourceTable = runtime.lake().resolve(spec.source().table());

            t = System.nanoTime();
            progress("generating sample data (untimed)");
            SampleDataReport data = new LocalRetrain(runtime, out).generateSampleData(new SampleDataOptions(
                    sourceTable, options.rows(), options.days(), options.seed(), SampleDataOptions.NO_DRIFT, 1.0), options.actor());
            if (data.rowsWritten() != options.rows()) {
                throw new IllegalStateException("sample data: expected " + options.rows() + " rows written to " + sourceTable
                        + ", got " + data.rowsWritten() + "; the benchmark needs a fresh lake");
            }
            progress(String.format(Locale.ROOT, "data generated in %.1f s", seconds(t)));
            results.put("data_generation_seconds", fmt(seconds(t)));

            Path bareRoot = home.resolve("bench-bare");
            progress("bare warm-up (untimed)");
            BareRun warmup = bare(spark, spec, sourceTable, runtime.lake().resolve("bench/features-warmup"), bareRoot.resolve("warmup"));
            progress(String.format(Locale.ROOT, "bare warm-up took %.2f s", warmup.totalSeconds()));
            results.put("warmup_seconds", fmt(warmup.totalSeconds()));

            // Alternate bare and Trellis runs so machine noise hits both alike; report medians. Each Trellis run
            // retrains its own copy of the model, so none has a champion to score on top of the bare work.
            List<Double> bareTotals = new ArrayList<>();
            List<Double> trellisTotals = new ArrayList<>();
            List<Double> outsideSparkTotals = new ArrayList<>();
            List<Double> registryTotals = new ArrayList<>();
            Map<String, List<Double>> bareSteps = new LinkedHashMap<>();
            for (int round = 1; round <= options.repeat(); round++) {
                progress("round " + round + "/" + options.repeat()
                        + ": bare (timed), validate, features, train, evaluate called directly on the shared Spark session");
                BareRun bare = bare(spark, spec, sourceTable, runtime.lake().resolve("bench/features-bare-" + round),
                        bareRoot.resolve("bare-" + round));
                bare.stepSeconds().forEach((step, sec) -> {
                    progress(String.format(Locale.ROOT, "  bare %-9s %8.2f s", step, sec));
                    bareSteps.computeIfAbsent(step, k -> new ArrayList<>()).add(sec);
                });
                progress(String.format(Locale.ROOT, "bare total %.2f s", bare.totalSeconds()));

                String model = spec.name() + "-bench-" + round;
                String roundYaml = yaml.replace("name: " + spec.name(), "name: " + model);
                runtime.registry().applyModelSpec(model, roundYaml, ModelSpecLoader.sha256(roundYaml), spec.environments(), options.actor());
                progress("round " + round + "/" + options.repeat()
                        + ": trellis (timed), retrain workflow through Temporal, registry on PostgreSQL, artifact store");
                TrellisRun trellis = trellis(runtime, model, options.actor());
                double sparkActivities = 0;
                double registryActivities = 0;
                for (Map.Entry<String, Double> e : trellis.activitySeconds().entrySet()) {
                    progress(String.format(Locale.ROOT, "  trellis activity %-26s %8.2f s (scheduled to completed)", e.getKey(), e.getValue()));
                    if (SPARK_ACTIVITIES.contains(e.getKey())) {
                        sparkActivities += e.getValue();
                    } else {
                        registryActivities += e.getValue();
                    }
                }
                // Less exposed to machine noise than the difference of two totals: Temporal scheduling, the registry
                // activities and the gaps between steps (the artifact copy and checksum run inside SparkTrain/SparkEvaluate).
                double outsideSpark = trellis.totalSeconds() - sparkActivities;
                progress(String.format(Locale.ROOT, "trellis total %.2f s (%s, version %d); outside its Spark activities %.2f s"
                                + " (non-Spark activities %.2f s)", trellis.totalSeconds(), trellis.result().status(),
                        trellis.result().version(), outsideSpark, registryActivities));
                compareMetrics(bare.metrics(), trellis.result().metrics());
                bareTotals.add(bare.totalSeconds());
                trellisTotals.add(trellis.totalSeconds());
                outsideSparkTotals.add(outsideSpark);
                registryTotals.add(registryActivities);
            }

            results.put("rounds", Integer.toString(options.repeat()));
            bareSteps.forEach((step, secs) -> results.put("bare_" + step + "_seconds", fmt(median(secs))));
            results.put("trellis_registry_activities_seconds", fmt(median(registryTotals)));
            results.put("trellis_outside_spark_seconds", fmt(median(outsideSparkTotals)));
            results.put("bare_seconds", fmt(median(bareTotals)));
            results.put("trellis_seconds", fmt(median(trellisTotals)));
            results.put("trellis_minus_bare_seconds", fmt(median(trellisTotals) - median(bareTotals)));
            results.put("overhead_ratio", String.format(Locale.ROOT, "%.3f", median(trellisTotals) / median(bareTotals)));
            progress("shutting down the embedded stack");
        }
    }

    /** The retrain's activities that run Spark jobs (the rest are registry, monitoring-store and budget activities). */
    static final java.util.Set<String> SPARK_ACTIVITIES = java.util.Set.of("SparkSnapshotAndValidate", "SparkBuildFeatures",
            "SparkTrain", "SparkEvaluate", "DriftReferenceProfile");

    /**
     * The five job cores the retrain's Spark activities call (validate, features, train, evaluate, and the reference
     * profile monitoring keeps), with a fresh feature table and run key so the write really happens.
     */
    private BareRun bare(SparkSession spark, ModelSpec spec, String sourceTable, String featureTable, Path dir) {
        settle();
        Map<String, Double> steps = new LinkedHashMap<>();
        long begin = System.nanoTime();

        long t = System.nanoTime();
        SnapshotReport snapshot = ValidateJob.run(spark, spec, sourceTable).requirePassed();
        steps.put("validate", seconds(t));

        t = System.nanoTime();
        String runKey = "bench/" + spec.name() + "/" + UUID.randomUUID();
        FeatureReport features = FeatureJob.run(spark, spec, new DatasetVersion(snapshot.tablePath(), snapshot.deltaVersion()),
                featureTable, runKey);
        if (!features.committed()) {
            throw new IllegalStateException("bare features: " + featureTable + " already had a commit for run " + runKey);
        }
        steps.put("features", seconds(t));

        t = System.nanoTime();
        DatasetVersion featureVersion = new DatasetVersion(features.tablePath(), features.version());
        String modelPath = dir.resolve("model").toUri().toString();
        TrainJob.run(spark, spec, featureVersion, modelPath);
        steps.put("train", seconds(t));

        t = System.nanoTime();
        EvaluationReport evaluation = EvaluateJob.run(spark, spec, featureVersion, modelPath, null);
        steps.put("evaluate", seconds(t));

        // The retrain also profiles its training snapshot for monitoring (DriftReferenceProfile, issue 5): same work here.
        t = System.nanoTime();
        DriftJob.reference(spark, spec, new DatasetVersion(snapshot.tablePath(), snapshot.deltaVersion()), modelPath);
        steps.put("reference", seconds(t));

        return new BareRun(steps, seconds(begin), evaluation.candidate());
    }

    private TrellisRun trellis(TrellisRuntime runtime, String model, String actor) {
        settle();
        long begin = System.nanoTime();
        WorkflowStub stub = new RetrainLauncher(runtime.client(), Clock.systemUTC()).start(new RetrainRequest(model, actor, "benchmark"));
        RetrainResult result;
        try {
            result = stub.getResult(RetrainResult.class);
        } catch (WorkflowFailedException e) {
            throw new IllegalStateException("the Trellis retrain " + stub.getExecution().getWorkflowId() + " failed: "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()), e);
        }
        double total = seconds(begin);
        if (result.status() != RunStatus.SUCCEEDED) {
            throw new IllegalStateException("the Trellis retrain " + result.runKey() + " ended " + result.status()
                    + ", not SUCCEEDED: " + result.message());
        }
        return new TrellisRun(total, activityTimes(runtime, stub.getExecution().getWorkflowId()), result);
    }

    /** Scheduled-to-completed time per activity type (summed over calls), in the order they first ran. */
    private static Map<String, Double> activityTimes(TrellisRuntime runtime, String workflowId) {
        Map<Long, String> typeByScheduledId = new HashMap<>();
        Map<Long, Instant> scheduledAt = new HashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        for (HistoryEvent event : runtime.client().fetchHistory(workflowId).getEvents()) {
            Instant at = Instant.ofEpochSecond(event.getEventTime().getSeconds(), event.getEventTime().getNanos());
            if (event.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
                String type = event.getActivityTaskScheduledEventAttributes().getActivityType().getName();
                typeByScheduledId.put(event.getEventId(), type);
                scheduledAt.put(event.getEventId(), at);
                seconds.putIfAbsent(type, 0.0);
            } else if (event.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
                long id = event.getActivityTaskCompletedEventAttributes().getScheduledEventId();
                double s = Duration.between(scheduledAt.get(id), at).toNanos() / 1e9;
                seconds.merge(typeByScheduledId.get(id), s, Double::sum);
            }
        }
        return seconds;
    }

    /**
     * Both paths trained on the same rows with the same seeds, so their metrics should agree; not to the last bit,
     * since MLlib's aggregation order follows the feature table's file layout. A larger gap means different work.
     */
    private void compareMetrics(Map<String, Double> bare, Map<String, Double> trellis) {
        String key = Metric.AUC.key();
        Double a = bare.get(key);
        Double b = trellis == null ? null : trellis.get(key);
        if (a == null || b == null) {
            progress("note: cannot compare " + key + " (bare " + a + ", trellis " + b + ")");
        } else if (Math.abs(a - b) > 1e-3) {
            progress(String.format(Locale.ROOT, "WARNING: %s differs: bare %.6f, trellis %.6f; the two paths did not do the same work",
                    key, a, b));
        } else {
            progress(String.format(Locale.ROOT, "%s agrees: bare %.6f, trellis %.6f", key, a, b));
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Garbage left by the previous phase should not be collected on the next phase's clock. */
    private static void settle() {
        System.gc();
    }

    private static Path prepareHome(Path requested) {
        try {
            if (requested == null) {
                Path parent = Path.of("trellis-data", "bench").toAbsolutePath();
                try {
                    Files.createDirectories(parent);
                } catch (IOException e) {
                    parent = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath();
                }
                return Files.createTempDirectory(parent, "retrain-overhead-");
            }
            Path home = requested.toAbsolutePath().normalize();
            if (Files.exists(home)) {
                try (Stream<Path> entries = Files.list(home)) {
                    if (entries.findAny().isPresent()) {
                        throw new TrellisException(ErrorCode.INVALID_REQUEST, "--home " + home + " is not empty; the benchmark"
                                + " needs a fresh registry and lake (an earlier model version would be scored as champion)."
                                + " Give an empty or new folder, or leave --home out.");
                    }
                }
            }
            return Files.createDirectories(home);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the benchmark home: " + e.getMessage(), e);
        }
    }

    private void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            progress("WARNING: could not delete " + dir + " completely: " + e.getMessage());
        }
    }

    private void progress(String line) {
        out.printf(Locale.ROOT, "[bench %7.1fs] %s%n", seconds(startedNanos), line);
        out.flush();
    }

    private static double seconds(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1e9;
    }

    private static String fmt(double seconds) {
        return String.format(Locale.ROOT, "%.3f", seconds);
    }
}
