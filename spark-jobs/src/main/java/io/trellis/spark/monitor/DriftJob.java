package io.trellis.spark.monitor;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.max_by;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaFileStats;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.features.FeatureTable;
import io.trellis.spark.scoring.PredictionsTable;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spark.train.TrainingPipeline;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;

/**
 * The Spark side of monitoring. {@link #reference} bins a model version's training snapshot (one quantile job, one
 * counting job; done once per version, at training time); {@link #current} counts the latest window in those bins,
 * with the live version's scores read from the production predictions table that batch scoring writes. Each counting
 * job is a single pass over its window for all features at once ({@link WindowCounter}): every partition folds its
 * rows into fixed arrays of bucket counts, and the driver adds up one small buffer per partition.
 */
public final class DriftJob {
    /** Equal-width score bins on [0, 1]: fine enough for a binned AUC within about 0.001 of the exact one. */
    public static final int SCORE_BINS = 1000;
    public static final int MAX_CATEGORIES = 100;
    static final double QUANTILE_ERROR = 0.001;
    private static final double[] PERCENTILES = new double[99];
    private static final String LABEL = "__monitor_label";
    private static final String SCORE = "__monitor_score";
    private static final String KIND = "__monitor_kind";
    private static final String KEY = "__monitor_key";
    /** Stands for every value outside the reference categories once they are indexed (never a category itself). */
    private static final String UNSEEN = "\u0000unseen";

    static {
        for (int i = 0; i < 99; i++) {
            PERCENTILES[i] = (i + 1) / 100.0;
        }
    }

    private DriftJob() {}

    /**
     * Bins every feature on the snapshot (numeric: distinct reference percentiles, grouped into deciles; categorical:
     * the most frequent categories) and counts the snapshot in them, with the live model's scores. The snapshot must
     * hold every feature of the spec and at least one row.
     */
    public static ReferenceProfile reference(SparkSession spark, ModelSpec spec, DatasetVersion snapshot, String modelPath) {
        DeltaTables.requireExists(spark, snapshot.tablePath());
        Dataset<Row> rows = DeltaTables.read(spark, snapshot);
        List<String> columns = Arrays.asList(rows.columns());
        List<String> absent = spec.features().all().stream().filter(f -> !columns.contains(f)).toList();
        if (!absent.isEmpty()) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH, "the training snapshot " + snapshot + " lacks the features "
                    + absent + ", so it cannot serve as the monitoring reference; check the spec's features against the table");
        }
        List<String> numeric = spec.features().numeric();
        double[][] quantiles = numeric.isEmpty() ? new double[0][]
                : rows.select(numeric.stream().map(c -> col(c).cast("double").as(c)).toArray(Column[]::new))
                        .stat().approxQuantile(numeric.toArray(String[]::new), PERCENTILES, QUANTILE_ERROR);
        List<FeatureBins> bins = new ArrayList<>();
        for (int i = 0; i < numeric.size(); i++) {
            bins.add(numericBins(numeric.get(i), quantiles[i]));
        }
        for (String c : spec.features().categorical()) {
            bins.add(new FeatureBins(c, false, new double[0], new int[0], List.of()));
        }
        Counts counts = count(rows, spec, bins, modelPath);
        if (counts.rows == 0) {
            throw new TrellisException(ErrorCode.EMPTY_TABLE, "the training snapshot " + snapshot
                    + " has no rows, so it cannot serve as the monitoring reference");
        }
        List<FeatureBins> fixed = new ArrayList<>();
        for (FeatureBins b : bins) {
            fixed.add(b.numeric() ? b : categoricalBins(b.feature(), counts.categorical.getOrDefault(b.feature(), Map.of())));
        }
        return new ReferenceProfile(snapshot.tablePath(), snapshot.version(), fixed,
                counts.profile(fixed, modelPath != null, null, null, List.of(),
                        modelPath == null ? null : "the model version, scoring its training snapshot"));
    }

    /**
     * Counts the latest {@code window} of {@code source} in the reference's bins, scoring it with the model at
     * {@code modelPath} (none: no prediction drift). Never fails on what the window holds: an empty window, a missing
     * feature or a missing label becomes a finding (a window with a feature missing is not scored).
     */
    public static WindowProfile current(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
                                        ReferenceProfile reference, String modelPath) {
        return current(spark, spec, source, window, reference, null, modelPath == null ? null : () -> modelPath);
    }

    /**
     * Counts the latest {@code window} of {@code source} in the reference's bins, and the scores of the latest batch
     * scoring run of the live version in {@code predictions} (with the window's labels joined on the spec's key column,
     * for the performance check), all in one Spark job. When the predictions table is missing or holds no scores of
     * that version, a finding says so and the window is scored with the model {@code fallbackModel} gives the path of
     * (asked only then; null: no prediction drift). Never fails on what the window holds: an empty window, a missing
     * feature or a missing label becomes a finding.
     */
    public static WindowProfile current(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
                                        ReferenceProfile reference, Predictions predictions,
                                        java.util.function.Supplier<String> fallbackModel) {
        return current(spark, spec, source, window, reference, predictions, fallbackModel, Join.ONE_SHUFFLE);
    }

    /** How the stored scores get the window's labels (the choice exists for tests and {@code bench/drift}). */
    public enum Join {
        /**
         * The default. No join when the window's bounds aggregate finds no labelled row in it; otherwise
         * {@link LabelJoin}: both sides repartitioned by key once, a hash lookup per partition (for keys of a type whose
         * Java equality is Spark's, the same type on both sides; else the SQL join).
         */
        ONE_SHUFFLE,
        /**
         * The straightforward plan it replaced: always the plain left join of the scores with the window's
         * {@code groupBy(key).max(label)} (an aggregation exchange, a second exchange and two sorts for the sort-merge join).
         */
        SQL
    }

    /**
     * {@link #current(SparkSession, ModelSpec, DatasetVersion, ScoringWindow, ReferenceProfile, Predictions,
     * java.util.function.Supplier)} with the label join chosen: both give the same profile (tests compare them;
     * {@code bench/drift} times both).
     */
    public static WindowProfile current(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
                                        ReferenceProfile reference, Predictions predictions,
                                        java.util.function.Supplier<String> fallbackModel, Join join) {
        return current(spark, spec, source, window, reference, predictions, fallbackModel, join, Lookup.AGGREGATE, null);
    }

    /**
     * How the window's bounds and the latest scoring run are found. Both give the same profile; {@code bench/drift} times
     * both. {@link #AGGREGATE} stays the default: on the bench's tables (10 daily files, one scoring run) the statistics
     * lookups measured slower, their extra Spark jobs (over the log's cached file list) costing more than the data
     * they skip.
     */
    public enum Lookup {
        /**
         * The exact aggregates, each over only the rows at or after a lower bound read from Delta's per-file statistics
         * (so Delta skips the older files: the cost stays that of the newest files however long the table's history),
         * and whether the window holds a label from the files' null counts where they are certain
         * ({@link ScoringWindow#selectUsingFileStats}).
         */
        FILE_STATS,
        /** The default: each aggregate over the whole table (the window's bounds and labels; the predictions of the version). */
        AGGREGATE
    }

    /**
     * Where a pass's wall time went, phase by phase ({@code bounds}: the window's bounds; {@code latest_run}: the latest
     * scoring run's lookup; {@code counting}: the counting job), in seconds, in the order they ran (for {@code bench/drift}).
     */
    public static final class Timings {
        private final Map<String, Double> seconds = new LinkedHashMap<>();

        public Map<String, Double> seconds() {
            return java.util.Collections.unmodifiableMap(seconds);
        }

        <T> T time(String phase, java.util.function.Supplier<T> body) {
            long start = System.nanoTime();
            try {
                return body.get();
            } finally {
                seconds.merge(phase, (System.nanoTime() - start) / 1e9, Double::sum);
            }
        }

        static <T> T time(Timings t, String phase, java.util.function.Supplier<T> body) {
            return t == null ? body.get() : t.time(phase, body);
        }
    }

    /**
     * {@link #current(SparkSession, ModelSpec, DatasetVersion, ScoringWindow, ReferenceProfile, Predictions,
     * java.util.function.Supplier, Join)} with the lookups chosen (both give the same profile), recording each phase's
     * wall time in {@code timings} (null: none).
     */
    public static WindowProfile current(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
                                        ReferenceProfile reference, Predictions predictions,
                                        java.util.function.Supplier<String> fallbackModel, Join join, Lookup lookup,
                                        Timings timings) {
        DeltaTables.requireExists(spark, source.tablePath());
        ScoringWindow.Selection selection;
        try {
            // Whether the window holds any label is found with its bounds, so a window without labels (the usual
            // latest window) skips the label join.
            boolean hasLabel = Arrays.asList(DeltaTables.read(spark, source).columns()).contains(spec.label());
            String marked = hasLabel && join == Join.ONE_SHUFFLE ? spec.label() : null;
            selection = Timings.time(timings, "bounds", () -> lookup == Lookup.FILE_STATS
                    ? window.selectUsingFileStats(spark, source, marked)
                    : window.select(spark, source, marked == null ? null : col(marked).cast("double").isNotNull()));
        } catch (TrellisException e) {
            if (e.code() != ErrorCode.EMPTY_TABLE) {
                throw e;
            }
            return empty("the window has no rows: " + e.getMessage());
        }
        List<String> columns = Arrays.asList(selection.rows().columns());
        List<String> findings = new ArrayList<>();
        List<FeatureBins> present = new ArrayList<>();
        for (FeatureBins b : reference.bins()) {
            if (columns.contains(b.feature())) {
                present.add(b);
            } else {
                findings.add("feature '" + b.feature() + "' is missing from " + source + ": no drift statistics for it");
            }
        }
        boolean labelled = columns.contains(spec.label());
        if (!labelled) {
            findings.add("the label column '" + spec.label() + "' is missing from " + source + ": no performance check");
        }
        StoredRun run = predictions == null ? null
                : predictions.latestRun() != null ? recordedRun(spark, predictions, findings)
                : Timings.time(timings, "latest_run", () -> latestRun(spark, predictions, findings, lookup));
        Stored stored = null;
        String modelPath = null;
        String scoresFrom = null;
        if (run != null) {
            stored = storedScores(spark, spec, predictions, run, selection.rows(), present, labelled,
                    !Boolean.FALSE.equals(selection.anyMarked()), findings, join);
            scoresFrom = "predictions table " + predictions.tablePath() + ": run " + run.runKey() + " of v" + predictions.modelVersion()
                    + " (scored at " + run.scoredAt() + " from " + run.sourceTable() + " @ Delta v" + run.sourceVersion() + ")";
            if (run.sourceVersion() < source.version() && run.sourceTable().equals(source.tablePath())) {
                findings.add("the latest scores of v" + predictions.modelVersion() + " in " + predictions.tablePath()
                        + " were computed from " + source.tablePath() + " @ Delta v" + run.sourceVersion() + ", older than the"
                        + " v" + source.version() + " monitored here: prediction drift describes the window batch scoring last scored");
            }
        } else if (fallbackModel != null) {
            if (present.size() == reference.bins().size()) {
                modelPath = fallbackModel.get();
                scoresFrom = "the live model, re-scoring the window" + (predictions == null ? "" : " (no stored predictions to read)");
            } else {
                findings.add("the window was not scored, because a feature the model needs is missing: no prediction drift"
                        + " or performance check");
            }
        }
        Stored storedSide = stored;
        Dataset<Row> sourceRows = sourceSide(selection.rows(), spec, present, modelPath);
        Counts counts = count(sourceRows, storedSide, present, timings);
        if (counts.rows == 0) {
            findings.add(0, "the window " + bounds(selection) + " of " + source + " has no rows: nothing to compare");
        }
        if (run != null && counts.predictionRows == 0) {
            findings.add("the predictions table " + predictions.tablePath() + " holds no rows of run " + run.runKey() + " of v"
                    + predictions.modelVersion() + " (the latest batch scoring run recorded): no prediction drift or performance check;"
                    + " run batch scoring again");
        }
        return counts.profile(present, scoresFrom != null, selection.from(), selection.to(), findings, scoresFrom);
    }

    /**
     * The production predictions table of a model and environment, the live version whose scores monitoring reads, and
     * its latest batch scoring run as the registry recorded it ({@code latestRun}; null: found in the table with one
     * aggregate, {@link #latestRun}).
     */
    public record Predictions(String tablePath, int modelVersion, StoredRun latestRun) {
        public Predictions(String tablePath, int modelVersion) {
            this(tablePath, modelVersion, null);
        }
    }

    /**
     * A batch scoring run of a version in the predictions table: its run key (every row of the run carries it), when it
     * scored (or was recorded), and the source table version it scored.
     */
    public record StoredRun(String runKey, String scoredAt, String sourceTable, long sourceVersion) {}

    /** The run the registry recorded, once the predictions table is known to exist (else null, with a finding). */
    private static StoredRun recordedRun(SparkSession spark, Predictions p, List<String> findings) {
        if (!DeltaTables.exists(spark, p.tablePath())) {
            findings.add("no predictions table at " + p.tablePath() + ", though the registry records batch scoring run "
                    + p.latestRun().runKey() + " of v" + p.modelVersion() + " into it: the window was re-scored with the live model"
                    + " for prediction drift");
            return null;
        }
        return p.latestRun();
    }

    /**
     * Finds the latest run (by {@code scored_at}) of the live version in the predictions table, with one small
     * aggregate over its run columns; null, with a finding, when the table is missing or holds no scores of it.
     */
    static StoredRun latestRun(SparkSession spark, Predictions p, List<String> findings, Lookup lookup) {
        if (!DeltaTables.exists(spark, p.tablePath())) {
            findings.add("no predictions table at " + p.tablePath() + " (batch scoring has not run in this environment yet):"
                    + " the window was re-scored with the live model for prediction drift");
            return null;
        }
        DatasetVersion version = new DatasetVersion(p.tablePath(), DeltaTables.latestVersion(spark, p.tablePath()));
        Dataset<Row> ofVersion = DeltaTables.read(spark, version).where(col(PredictionsTable.MODEL_VERSION).equalTo(p.modelVersion()));
        if (lookup == Lookup.FILE_STATS) {
            // The latest run is at or after the newest run time of any file holding only this version's rows: older
            // runs' files are skipped.
            DeltaFileStats stats = DeltaFileStats.of(spark, version);
            if (stats.hasMinMax(PredictionsTable.MODEL_VERSION) && stats.hasNullCount(PredictionsTable.MODEL_VERSION)) {
                Optional<Column> lower = stats.lowerBoundOfMax(PredictionsTable.SCORED_AT, DataTypes.TimestampType,
                        DeltaFileStats.stat("minValues", PredictionsTable.MODEL_VERSION).equalTo(p.modelVersion())
                                .and(DeltaFileStats.stat("maxValues", PredictionsTable.MODEL_VERSION).equalTo(p.modelVersion()))
                                .and(DeltaFileStats.stat("nullCount", PredictionsTable.MODEL_VERSION).equalTo(0)));
                if (lower.isPresent()) {
                    ofVersion = ofVersion.where(col(PredictionsTable.SCORED_AT).geq(lower.get()));
                }
            }
        }
        Row latest = ofVersion
                .agg(max_by(col(PredictionsTable.RUN_KEY), col(PredictionsTable.SCORED_AT)),
                        max(col(PredictionsTable.SCORED_AT)).cast("string"),
                        max_by(col(PredictionsTable.SOURCE_TABLE), col(PredictionsTable.SCORED_AT)),
                        max_by(col(PredictionsTable.SOURCE_VERSION), col(PredictionsTable.SCORED_AT)))
                .head();
        if (latest.isNullAt(0)) {
            findings.add("the predictions table " + p.tablePath() + " holds no scores of v" + p.modelVersion() + " (batch scoring"
                    + " has not run since it went live): the window was re-scored with the live model for prediction drift");
            return null;
        }
        return new StoredRun(latest.getString(0), latest.getString(1), latest.getString(2), latest.getLong(3));
    }

    /**
     * The stored scores of {@code run}, with each row's label from the window when the spec names a key column (one
     * label per key, so a repeated key cannot duplicate a score); without a key, a finding and no performance check.
     */
    private static Stored storedScores(SparkSession spark, ModelSpec spec, Predictions p, StoredRun run,
                                       Dataset<Row> window, List<FeatureBins> bins, boolean labelled,
                                       boolean mayHoldLabels, List<String> findings, Join join) {
        // The table's latest snapshot (the run's rows stay in every later version).
        Dataset<Row> scores = io.delta.tables.DeltaTable.forPath(spark, p.tablePath()).toDF()
                .where(col(PredictionsTable.MODEL_VERSION).equalTo(p.modelVersion()).and(col(PredictionsTable.RUN_KEY).equalTo(run.runKey())));
        String key = spec.source().keyColumn();
        boolean hasKey = key != null && Arrays.asList(scores.columns()).contains(key) && Arrays.asList(window.columns()).contains(key);
        if (labelled && hasKey && !mayHoldLabels) {
            // No row of the window has a label yet: every score would join a null label, so no join runs.
            return new Stored(scores.select(counterColumns(bins, lit(null), col(PredictionsTable.SCORE), WindowCounter.PREDICTION_ROW)), null, null);
        }
        if (labelled && hasKey) {
            DataType keyType = window.schema().apply(key).dataType();
            if (join == Join.ONE_SHUFFLE && hashable(keyType) && keyType.equals(scores.schema().apply(key).dataType())) {
                // Only labelled window rows can give a label (max ignores nulls); a null key never matches.
                // (key, value, kind): the value is the label of a window row, the score of a stored one.
                Dataset<Row> labels = window.select(col(key).as(KEY), col(spec.label()).cast("double").as(LABEL),
                                lit(WindowCounter.SOURCE_ROW).as(KIND))
                        .where(col(KEY).isNotNull().and(col(LABEL).isNotNull()));
                Dataset<Row> keyed = scores.select(col(key).as(KEY), col(PredictionsTable.SCORE).cast("double").as(LABEL),
                        lit(WindowCounter.PREDICTION_ROW).as(KIND));
                return new Stored(null, labels.union(keyed).repartition(col(KEY)), keyType);
            }
            Dataset<Row> labels = window.select(col(key), col(spec.label()).cast("double").as(LABEL)).groupBy(key)
                    .agg(max(col(LABEL)).as(LABEL));
            return new Stored(scores.select(col(key), col(PredictionsTable.SCORE)).join(labels, scores.col(key).equalTo(labels.col(key)), "left")
                    .select(counterColumns(bins, col(LABEL), col(PredictionsTable.SCORE), WindowCounter.PREDICTION_ROW)), null, null);
        }
        if (labelled) {
            findings.add("the spec names no key column to match stored predictions with the window's labels: no performance check");
        }
        return new Stored(scores.select(counterColumns(bins, lit(null), col(PredictionsTable.SCORE), WindowCounter.PREDICTION_ROW)), null, null);
    }

    /**
     * The stored scores as the counting job reads them: either rows in the counter's layout ({@code plain}), or the
     * window's labels and the scores keyed and repartitioned by key, for {@link LabelJoin} ({@code keyed}, with the key's
     * type).
     */
    private record Stored(Dataset<Row> plain, Dataset<Row> keyed, DataType keyType) {}

    /**
     * Key types whose Java values are equal exactly when Spark's join finds them equal (so not floating point, whose
     * -0.0 and NaN Spark normalises, nor binary or nested types, nor collated strings).
     */
    static boolean hashable(DataType type) {
        return type.equals(DataTypes.StringType) || type.equals(DataTypes.IntegerType) || type.equals(DataTypes.LongType)
                || type.equals(DataTypes.ShortType) || type.equals(DataTypes.ByteType) || type.equals(DataTypes.BooleanType)
                || type.equals(DataTypes.DateType) || type.equals(DataTypes.TimestampType)
                || type.equals(DataTypes.TimestampNTZType) || type instanceof DecimalType;
    }

    private static String bounds(ScoringWindow.Selection s) {
        return s.from() == null ? "(whole table)" : "[" + s.from() + ", " + s.to() + "]";
    }

    private static WindowProfile empty(String finding) {
        return new WindowProfile(0, Map.of(), false, new long[SCORE_BINS], new long[SCORE_BINS], new long[SCORE_BINS],
                null, null, List.of(finding), null);
    }

    static FeatureBins numericBins(String feature, double[] percentiles) {
        TreeSet<Double> distinct = new TreeSet<>();
        for (double q : percentiles) {
            if (!Double.isNaN(q)) {
                distinct.add(q);
            }
        }
        if (distinct.isEmpty()) {
            distinct.add(0.0); // an all-null reference column: every value lands in the null bucket anyway
        }
        double[] edges = distinct.stream().mapToDouble(Double::doubleValue).toArray();
        TreeSet<Double> deciles = new TreeSet<>();
        for (int d = 1; d <= 9 && percentiles.length >= 99; d++) {
            if (!Double.isNaN(percentiles[d * 10 - 1])) {
                deciles.add(percentiles[d * 10 - 1]);
            }
        }
        int[] coarse = new int[edges.length + 1];
        for (int j = 1; j <= edges.length; j++) {
            double lower = edges[j - 1];
            coarse[j] = deciles.headSet(lower, true).size();
        }
        return new FeatureBins(feature, true, edges, coarse, List.of());
    }

    static FeatureBins categoricalBins(String feature, Map<String, Long> counts) {
        List<String> categories = counts.entrySet().stream()
                .filter(e -> !e.getKey().equals(FeatureTable.MISSING))
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(MAX_CATEGORIES).map(Map.Entry::getKey).sorted(Comparator.naturalOrder()).toList();
        return new FeatureBins(feature, false, new double[0], new int[0], categories);
    }

    /** The one counting pass over {@code rows} (scored with the model at {@code modelPath} unless null). */
    private static Counts count(Dataset<Row> rows, ModelSpec spec, List<FeatureBins> bins, String modelPath) {
        return count(sourceSide(rows, spec, bins, modelPath), (Stored) null, bins, null);
    }

    /**
     * The window's rows as the counter reads them: the binned features, the label, the score (from the model at
     * {@code modelPath}; null without one) and the kind {@link WindowCounter#SOURCE_ROW}.
     */
    private static Dataset<Row> sourceSide(Dataset<Row> rows, ModelSpec spec, List<FeatureBins> bins, String modelPath) {
        List<String> columns = Arrays.asList(rows.columns());
        boolean labelled = columns.contains(spec.label());
        Set<String> binned = new java.util.HashSet<>();
        for (FeatureBins b : bins) {
            binned.add(b.feature());
        }
        List<Column> prepared = new ArrayList<>();
        // The model needs every feature, in the form it was trained on.
        for (String c : spec.features().numeric()) {
            if (binned.contains(c) || modelPath != null) {
                prepared.add(col(c).cast("double").as(c));
            }
        }
        for (String c : spec.features().categorical()) {
            if (binned.contains(c) || modelPath != null) {
                prepared.add(coalesce(col(c).cast("string"), lit(FeatureTable.MISSING)).as(c));
            }
        }
        prepared.add((labelled ? col(spec.label()).cast("double") : lit(null).cast("double")).as(LABEL));
        Dataset<Row> data = rows.select(prepared.toArray(Column[]::new));
        Column score = lit(null).cast("double");
        if (modelPath != null) {
            data = PipelineModel.load(modelPath).transform(data);
            score = org.apache.spark.ml.functions.vector_to_array(col(TrainingPipeline.PROBABILITY), "float64").getItem(1);
        }
        return data.select(counterColumns(bins, col(LABEL), score, WindowCounter.SOURCE_ROW));
    }

    private static Column[] counterColumns(List<FeatureBins> bins, Column label, Column score, int kind) {
        List<Column> out = new ArrayList<>();
        for (int i = 0; i < bins.size(); i++) {
            FeatureBins b = bins.get(i);
            out.add((kind == WindowCounter.SOURCE_ROW ? col(b.feature()) : lit(null))
                    .cast(b.numeric() ? "double" : "string").as("__f" + i));
        }
        out.add(label.cast("double").as(LABEL));
        out.add(score.cast("double").as(SCORE));
        out.add(lit(kind).as(KIND));
        return out.toArray(Column[]::new);
    }

    /**
     * Counts the source side and, if given, the stored predictions: every partition folds its rows into one buffer of
     * counts, which the driver adds up. Without a label join both sides are unioned into one Spark job; with one, the
     * window's features are counted in one job while the scores, repartitioned by key with the window's labels, are
     * joined and counted in another, the two planned and run at the same time (so neither waits for the other's
     * planning, Delta file listing or last task). The counters read the query's internal rows ({@code
     * queryExecution().toRdd()}, as {@code Dataset.rdd()} does, minus its conversion of every row).
     */
    private static Counts count(Dataset<Row> source, Stored predictions, List<FeatureBins> bins, Timings timings) {
        Dataset<Row> all = predictions == null || predictions.plain() == null ? source : source.union(predictions.plain());
        WindowCounter counter = new WindowCounter(bins, SCORE_BINS);
        java.util.concurrent.CompletableFuture<List<WindowCounter.Counts>> joined = null;
        if (predictions != null && predictions.keyed() != null) {
            joined = concurrently(() -> predictions.keyed().queryExecution().toRdd().toJavaRDD()
                    .mapPartitions(new LabelJoin(counter, predictions.keyType())).collect());
        }
        // Planning (the optimiser, Delta's file listing for each scan) apart from running the job, for bench/drift.
        Timings.time(timings, "planning", () -> all.queryExecution().executedPlan());
        List<WindowCounter.Counts> partitions = new ArrayList<>(Timings.time(timings, "counting",
                () -> all.queryExecution().toRdd().toJavaRDD().mapPartitions(counter).collect()));
        if (joined != null) {
            java.util.concurrent.CompletableFuture<List<WindowCounter.Counts>> other = joined;
            partitions.addAll(Timings.time(timings, "label_join_wait", () -> await(other)));
        }
        // No partitions at all (an empty relation): the same as partitions that counted nothing.
        WindowCounter.Counts sum = partitions.stream().reduce(WindowCounter.Counts::plus).orElseGet(counter::empty);
        Counts counts = new Counts();
        counts.rows = sum.rows;
        counts.predictionRows = sum.predictionRows;
        System.arraycopy(sum.scores, 0, counts.scores, 0, SCORE_BINS);
        System.arraycopy(sum.positives, 0, counts.positives, 0, SCORE_BINS);
        System.arraycopy(sum.negatives, 0, counts.negatives, 0, SCORE_BINS);
        for (int i = 0; i < bins.size(); i++) {
            FeatureBins b = bins.get(i);
            if (b.numeric()) {
                counts.numeric.put(b.feature(), counter.slice(sum, i, b.fineBins() + 1));
            } else if (b.categories().isEmpty()) {
                counts.categorical.put(b.feature(), new HashMap<>(sum.discovered.get(i)));
            } else {
                long[] raw = counter.slice(sum, i, b.fineBins() + 1);
                Map<String, Long> byValue = new HashMap<>();
                for (int j = 0; j < b.categories().size(); j++) {
                    byValue.put(b.categories().get(j), raw[j]);
                }
                byValue.put(UNSEEN, raw[b.categories().size()]);
                byValue.put(FeatureTable.MISSING, raw[b.categories().size() + 1]);
                counts.categorical.put(b.feature(), byValue);
            }
        }
        return counts;
    }

    /**
     * Runs {@code body} on a new thread, which inherits this thread's Spark local properties (the step's job group, so
     * its jobs are accounted and cancelled with the step's).
     */
    private static <T> java.util.concurrent.CompletableFuture<T> concurrently(java.util.function.Supplier<T> body) {
        java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(body.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "trellis-drift-label-join");
        t.setDaemon(true);
        t.start();
        return result;
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the label join ran", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Raw counts of one pass: numeric fine bins with the null bucket last, categorical values as found. */
    private static final class Counts {
        long rows;
        long predictionRows;
        final long[] scores = new long[SCORE_BINS];
        final long[] positives = new long[SCORE_BINS];
        final long[] negatives = new long[SCORE_BINS];
        final Map<String, long[]> numeric = new HashMap<>();
        final Map<String, Map<String, Long>> categorical = new HashMap<>();

        WindowProfile profile(List<FeatureBins> bins, boolean scored, String from, String to, List<String> findings,
                              String scoresFrom) {
            Map<String, WindowProfile.FeatureCounts> features = new LinkedHashMap<>();
            for (FeatureBins b : bins) {
                if (b.numeric()) {
                    long[] raw = numeric.getOrDefault(b.feature(), new long[b.fineBins() + 1]);
                    features.put(b.feature(), new WindowProfile.FeatureCounts(Arrays.copyOf(raw, b.fineBins()), raw[b.fineBins()]));
                } else {
                    long[] c = new long[b.fineBins()];
                    long nulls = 0;
                    for (Map.Entry<String, Long> e : categorical.getOrDefault(b.feature(), Map.of()).entrySet()) {
                        if (e.getKey().equals(FeatureTable.MISSING)) {
                            nulls += e.getValue();
                        } else {
                            int idx = b.categories().indexOf(e.getKey());
                            c[idx < 0 ? c.length - 1 : idx] += e.getValue();
                        }
                    }
                    features.put(b.feature(), new WindowProfile.FeatureCounts(c, nulls));
                }
            }
            boolean anyScore = DriftStatistics.total(scores) > 0;
            return new WindowProfile(rows, features, scored && rows > 0 && anyScore, scores, positives, negatives, from, to,
                    List.copyOf(findings), scored && anyScore ? scoresFrom : null);
        }
    }
}
