package io.trellis.spark.monitor;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.map_from_arrays;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.features.FeatureTable;
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
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.feature.Bucketizer;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark side of monitoring. {@link #reference} bins a model version's training snapshot (one quantile job, one
 * counting job; done once per version); {@link #current} counts the latest window in those bins. Each counting
 * job is a single pass over its window for all features at once: every row becomes one (feature, bin) entry per
 * feature, plus its score bin and label class from the live model, and one aggregation counts them.
 */
public final class DriftJob {
    /** Equal-width score bins on [0, 1]: fine enough for a binned AUC within about 0.001 of the exact one. */
    public static final int SCORE_BINS = 1000;
    public static final int MAX_CATEGORIES = 100;
    static final double QUANTILE_ERROR = 0.001;
    private static final double[] PERCENTILES = new double[99];
    private static final int ROWS_ENTRY = -2;
    private static final int SCORE_ENTRY = -1;
    private static final String LABEL = "__monitor_label";
    private static final int NULL_BUCKET = -1;
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
                counts.profile(fixed, modelPath != null, null, null, List.of()));
    }

    /**
     * Counts the latest {@code window} of {@code source} in the reference's bins, scoring it with the model at
     * {@code modelPath}. Never fails on what the window holds: an empty window, a missing feature or a missing
     * label becomes a finding (a window with a feature missing is not scored).
     */
    public static WindowProfile current(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
                                        ReferenceProfile reference, String modelPath) {
        DeltaTables.requireExists(spark, source.tablePath());
        ScoringWindow.Selection selection;
        try {
            selection = window.select(spark, source);
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
                findings.add("feature '" + b.feature() + "' is missing from " + source + ": no drift statistics for it, and the"
                        + " window was not scored (no prediction drift or performance check)");
            }
        }
        boolean score = modelPath != null && present.size() == reference.bins().size();
        if (!columns.contains(spec.label())) {
            findings.add("the label column '" + spec.label() + "' is missing from " + source + ": no performance check");
        }
        Counts counts = count(selection.rows(), spec, present, score ? modelPath : null);
        if (counts.rows == 0) {
            findings.add(0, "the window " + bounds(selection) + " of " + source + " has no rows: nothing to compare");
        }
        return counts.profile(present, score, selection.from(), selection.to(), findings);
    }

    private static String bounds(ScoringWindow.Selection s) {
        return s.from() == null ? "(whole table)" : "[" + s.from() + ", " + s.to() + "]";
    }

    private static WindowProfile empty(String finding) {
        return new WindowProfile(0, Map.of(), false, new long[SCORE_BINS], new long[SCORE_BINS], new long[SCORE_BINS],
                null, null, List.of(finding));
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

    /** The one counting pass over {@code rows}. */
    private static Counts count(Dataset<Row> rows, ModelSpec spec, List<FeatureBins> bins, String modelPath) {
        List<String> columns = Arrays.asList(rows.columns());
        boolean labelled = columns.contains(spec.label());
        List<Column> prepared = new ArrayList<>();
        Set<String> binned = new java.util.HashSet<>();
        for (FeatureBins b : bins) {
            binned.add(b.feature());
        }
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
        if (labelled) {
            prepared.add(col(spec.label()).cast("double").as(LABEL));
        }
        Dataset<Row> data = rows.select(prepared.toArray(Column[]::new));
        if (modelPath != null) {
            data = PipelineModel.load(modelPath).transform(data);
        }
        List<FeatureBins> numeric = bins.stream().filter(FeatureBins::numeric).toList();
        if (!numeric.isEmpty()) {
            double[][] splits = new double[numeric.size()][];
            for (int i = 0; i < numeric.size(); i++) {
                double[] edges = numeric.get(i).edges();
                double[] s = new double[edges.length + 2];
                s[0] = Double.NEGATIVE_INFINITY;
                System.arraycopy(edges, 0, s, 1, edges.length);
                s[s.length - 1] = Double.POSITIVE_INFINITY;
                splits[i] = s;
            }
            // Nulls and NaN go to the extra bucket (index = number of bins): "keep".
            data = new Bucketizer().setInputCols(numeric.stream().map(FeatureBins::feature).toArray(String[]::new))
                    .setOutputCols(numeric.stream().map(b -> b.feature() + "__monitor_bin").toArray(String[]::new))
                    .setSplitsArray(splits).setHandleInvalid("keep").transform(data);
        }
        // With every categorical feature's categories known (the current pass), all buckets are ints: cheap keys to
        // hash. The reference pass still has to discover the categories, so it groups on the values as strings.
        boolean intKeys = bins.stream().noneMatch(b -> !b.numeric() && b.categories().isEmpty());
        List<Column> entries = new ArrayList<>();
        for (int i = 0; i < bins.size(); i++) {
            FeatureBins b = bins.get(i);
            Column bucket;
            if (b.numeric()) {
                // Bucketizer passes a null through as null; NaN lands in the extra bucket. Both count as null.
                bucket = coalesce(col(b.feature() + "__monitor_bin").cast("int"), lit(b.fineBins()));
            } else if (intKeys) {
                List<String> cats = b.categories();
                Column index = map_from_arrays(array(cats.stream().map(functions::lit).toArray(Column[]::new)),
                        array(java.util.stream.IntStream.range(0, cats.size()).mapToObj(functions::lit).toArray(Column[]::new)));
                bucket = coalesce(try_element_at(index, col(b.feature())),
                        when(col(b.feature()).equalTo(FeatureTable.MISSING), lit(NULL_BUCKET)).otherwise(lit(cats.size())));
            } else {
                bucket = col(b.feature());
            }
            entries.add(struct(lit(i).as("f"), (intKeys ? bucket : bucket.cast("string")).as("b")));
        }
        entries.add(struct(lit(ROWS_ENTRY).as("f"), (intKeys ? lit(0) : lit("")).as("b")));
        if (modelPath != null) {
            Column score = org.apache.spark.ml.functions.vector_to_array(col(TrainingPipeline.PROBABILITY), "float64").getItem(1);
            Column bin = least(greatest(floor(score.multiply(SCORE_BINS)), lit(0)), lit(SCORE_BINS - 1)).cast("int");
            Column labelClass = labelled
                    ? when(col(LABEL).isNull().or(col(LABEL).isNaN()), 0).when(col(LABEL).geq(0.5), 2).otherwise(1)
                    : lit(0);
            Column key = bin.multiply(3).plus(labelClass);
            entries.add(struct(lit(SCORE_ENTRY).as("f"), (intKeys ? key : key.cast("string")).as("b")));
        }
        List<Row> groups = data.select(explode(array(entries.toArray(Column[]::new))).as("e"))
                .groupBy(col("e.f").as("f"), col("e.b").as("b")).count().collectAsList();
        Counts counts = new Counts();
        for (Row g : groups) {
            int f = g.getInt(0);
            Object key = g.get(1);
            long n = g.getLong(2);
            if (f == ROWS_ENTRY) {
                counts.rows += n;
            } else if (f == SCORE_ENTRY) {
                int v = key instanceof Integer i ? i : Integer.parseInt((String) key);
                int bin = v / 3;
                counts.scores[bin] += n;
                if (v % 3 == 2) {
                    counts.positives[bin] += n;
                } else if (v % 3 == 1) {
                    counts.negatives[bin] += n;
                }
            } else {
                FeatureBins fb = bins.get(f);
                if (fb.numeric()) {
                    int bucket = key instanceof Integer i ? i : Integer.parseInt((String) key);
                    counts.numeric.computeIfAbsent(fb.feature(), k -> new long[fb.fineBins() + 1])[bucket] += n;
                } else if (key instanceof Integer i) {
                    String value = i == NULL_BUCKET ? FeatureTable.MISSING
                            : i < fb.categories().size() ? fb.categories().get(i) : UNSEEN;
                    counts.categorical.computeIfAbsent(fb.feature(), k -> new HashMap<>()).merge(value, n, Long::sum);
                } else {
                    counts.categorical.computeIfAbsent(fb.feature(), k -> new HashMap<>()).merge((String) key, n, Long::sum);
                }
            }
        }
        return counts;
    }

    /** Raw counts of one pass: numeric fine bins with the null bucket last, categorical values as found. */
    private static final class Counts {
        long rows;
        final long[] scores = new long[SCORE_BINS];
        final long[] positives = new long[SCORE_BINS];
        final long[] negatives = new long[SCORE_BINS];
        final Map<String, long[]> numeric = new HashMap<>();
        final Map<String, Map<String, Long>> categorical = new HashMap<>();

        WindowProfile profile(List<FeatureBins> bins, boolean scored, String from, String to, List<String> findings) {
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
            return new WindowProfile(rows, features, scored && rows > 0, scores, positives, negatives, from, to, List.copyOf(findings));
        }
    }
}
