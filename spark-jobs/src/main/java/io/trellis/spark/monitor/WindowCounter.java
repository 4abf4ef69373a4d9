package io.trellis.spark.monitor;

import io.trellis.spark.features.FeatureTable;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The counting half of monitoring's one pass: every partition folds its rows into one {@link Counts} buffer (fixed
 * arrays indexed by bucket, no per-row entries, no shuffle), and the driver adds the few buffers up. This replaced an
 * explode into one (feature, bucket) row per feature and a group-by, which cost a 21-fold blow-up of the rows and a
 * hash aggregation of them.
 *
 * <p>Input rows, by position: the binned features ({@code double} for numeric, {@code string} for categorical), then
 * the label ({@code double}, null when unknown), the score ({@code double}, null when the row was not scored) and the
 * kind: {@link #SOURCE_ROW} (a row of the window: its features count, and its score if it has one) or
 * {@link #PREDICTION_ROW} (a stored prediction: only its score and label count).
 *
 * <p>Numeric buckets follow {@code Bucketizer} with splits {@code [-inf, edges..., +inf]}: bucket {@code j} holds
 * {@code edges[j-1] <= v < edges[j]}; null and NaN count as null. A categorical value outside the reference categories
 * falls into "other / unseen"; null and {@link FeatureTable#MISSING} count as null. Categorical features without
 * categories yet (the reference pass discovers them) are counted by value.
 *
 * <p>It reads Spark's internal rows as the query produces them ({@code queryExecution().toRdd()}): no conversion of
 * each row into a {@code Row} of boxed values and decoded strings, categories looked up by their UTF-8 bytes.
 */
public final class WindowCounter implements FlatMapFunction<Iterator<InternalRow>, WindowCounter.Counts> {
    static final int SOURCE_ROW = 0;
    static final int PREDICTION_ROW = 1;
    private static final long serialVersionUID = 1L;

    private final int scoreBins;
    private final double[][] edges;
    private final Map<UTF8String, Integer>[] categories;
    private final int[] offsets;
    private final int width;

    @SuppressWarnings("unchecked")
    WindowCounter(List<FeatureBins> bins, int scoreBins) {
        this.scoreBins = scoreBins;
        int n = bins.size();
        edges = new double[n][];
        categories = new Map[n];
        offsets = new int[n];
        int offset = 0;
        for (int i = 0; i < n; i++) {
            FeatureBins b = bins.get(i);
            offsets[i] = offset;
            if (b.numeric()) {
                edges[i] = b.edges().clone();
                offset += b.edges().length + 2; // fine bins, then the null bucket
            } else if (!b.categories().isEmpty()) {
                HashMap<UTF8String, Integer> index = new HashMap<>();
                for (int j = 0; j < b.categories().size(); j++) {
                    index.put(UTF8String.fromString(b.categories().get(j)), j);
                }
                categories[i] = index;
                offset += b.categories().size() + 2; // categories, "other / unseen", then the null bucket
            }
        }
        width = offset;
    }

    @Override
    public Iterator<Counts> call(Iterator<InternalRow> rows) {
        Counts c = empty();
        while (rows.hasNext()) {
            add(c, rows.next());
        }
        return List.of(c).iterator();
    }

    /** A buffer that counted nothing. */
    Counts empty() {
        return new Counts(width, scoreBins, edges.length);
    }

    /** Counts one row of the counter's layout into {@code c}. */
    void add(Counts c, InternalRow row) {
        int n = edges.length;
        int labelAt = n;
        int scoreAt = n + 1;
        if (row.getInt(n + 2) == SOURCE_ROW) {
            c.rows++;
            long[] bins = c.bins;
            for (int i = 0; i < n; i++) {
                if (edges[i] != null) {
                    bins[offsets[i] + numericBucket(edges[i], row.isNullAt(i) ? Double.NaN : row.getDouble(i))]++;
                } else {
                    UTF8String v = row.isNullAt(i) ? null : row.getUTF8String(i);
                    if (categories[i] != null) {
                        bins[offsets[i] + categoricalBucket(categories[i], v)]++;
                    } else {
                        c.discovered.get(i).merge(v == null ? FeatureTable.MISSING : v.toString(), 1L, Long::sum);
                    }
                }
            }
        } else {
            c.predictionRows++;
        }
        if (!row.isNullAt(scoreAt)) {
            score(c, row.getDouble(scoreAt), row.isNullAt(labelAt) ? Double.NaN : row.getDouble(labelAt));
        }
    }

    /** Counts a score (NaN: none) with its label (NaN: none) into the score bins. */
    void score(Counts c, double score, double label) {
        if (!Double.isNaN(score)) {
            int bin = (int) Math.min(scoreBins - 1, Math.max(0, Math.floor(score * scoreBins)));
            c.scores[bin]++;
            if (!Double.isNaN(label)) {
                if (label >= 0.5) {
                    c.positives[bin]++;
                } else {
                    c.negatives[bin]++;
                }
            }
        }
    }

    /** The fine bucket of {@code v} among {@code edges} (sorted, distinct), or {@code edges.length + 1} for null/NaN. */
    static int numericBucket(double[] edges, double v) {
        if (Double.isNaN(v)) {
            return edges.length + 1;
        }
        int i = Arrays.binarySearch(edges, v); // as Bucketizer does (so -0.0 sorts below 0.0 there too)
        return i >= 0 ? i + 1 : -i - 1;
    }

    private static final UTF8String MISSING = UTF8String.fromString(FeatureTable.MISSING);

    private static int categoricalBucket(Map<UTF8String, Integer> index, UTF8String v) {
        if (v == null || v.equals(MISSING)) {
            return index.size() + 1;
        }
        Integer j = index.get(v);
        return j == null ? index.size() : j;
    }

    /** Feature {@code i}'s slice of the flat bucket array: fine bins then null (numeric), categories, unseen, null. */
    long[] slice(Counts c, int i, int length) {
        return Arrays.copyOfRange(c.bins, offsets[i], offsets[i] + length);
    }

    /** One partition's counts; {@link #plus} adds another partition's. Public only for Spark's encoder. */
    public static final class Counts implements Serializable {
        private static final long serialVersionUID = 1L;
        long rows;
        long predictionRows;
        final long[] bins;
        final long[] scores;
        final long[] positives;
        final long[] negatives;
        final ArrayList<HashMap<String, Long>> discovered;

        Counts(int width, int scoreBins, int features) {
            bins = new long[width];
            scores = new long[scoreBins];
            positives = new long[scoreBins];
            negatives = new long[scoreBins];
            discovered = new ArrayList<>();
            for (int i = 0; i < features; i++) {
                discovered.add(new HashMap<>());
            }
        }

        Counts plus(Counts other) {
            rows += other.rows;
            predictionRows += other.predictionRows;
            add(bins, other.bins);
            add(scores, other.scores);
            add(positives, other.positives);
            add(negatives, other.negatives);
            for (int i = 0; i < discovered.size(); i++) {
                HashMap<String, Long> mine = discovered.get(i);
                other.discovered.get(i).forEach((k, v) -> mine.merge(k, v, Long::sum));
            }
            return this;
        }

        private static void add(long[] into, long[] from) {
            for (int i = 0; i < into.length; i++) {
                into[i] += from[i];
            }
        }
    }
}
