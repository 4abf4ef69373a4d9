package io.trellis.spark.monitor;

import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * The label join of monitoring's performance check, done in one shuffle: the window's labelled {@code (key, label)}
 * rows and the stored {@code (key, score)} rows are repartitioned together by key, and every partition looks each
 * stored score's label up in a hash map of its keys (the greatest label per key, as {@code max} orders doubles: NaN
 * above everything), then counts the scores with the {@link WindowCounter}. The same result as the left join of the
 * stored scores with the window's {@code groupBy(key).max(label)}, without its aggregation exchange and the sort-merge
 * join's second exchange and two sorts.
 *
 * <p>Input rows, by position: the key (never a floating-point or complex type: Java equality must be Spark's), the
 * value ({@code double}: a window row's label, non-null; a stored row's score) and the kind
 * ({@link WindowCounter#SOURCE_ROW} for a window row, {@link WindowCounter#PREDICTION_ROW} for a stored score). A null
 * key matches nothing, as in a join. A partition buffers its stored scores (key and score, in arrays) until it has seen
 * all its window rows. Rows are Spark's internal rows; a string key is copied out of its (reused) row buffer before it
 * is kept.
 */
final class LabelJoin implements FlatMapFunction<Iterator<InternalRow>, WindowCounter.Counts> {
    private static final long serialVersionUID = 1L;

    private final WindowCounter counter;
    private final DataType keyType;

    /** {@code counter} counts the joined scores; {@code keyType}: the key column's type on both sides. */
    LabelJoin(WindowCounter counter, DataType keyType) {
        this.counter = counter;
        this.keyType = keyType;
    }

    @Override
    public Iterator<WindowCounter.Counts> call(Iterator<InternalRow> rows) {
        LabelMap labels = new LabelMap();
        Object[] keys = new Object[1024];
        double[] scores = new double[1024];
        int stored = 0;
        while (rows.hasNext()) {
            InternalRow row = rows.next();
            Object key = row.isNullAt(0) ? null : row.get(0, keyType);
            if (key instanceof UTF8String s) {
                key = s.copy();
            }
            if (row.getInt(2) == WindowCounter.SOURCE_ROW) {
                if (key != null && !row.isNullAt(1)) {
                    labels.merge(key, row.getDouble(1));
                }
            } else {
                if (stored == keys.length) {
                    keys = java.util.Arrays.copyOf(keys, stored * 2);
                    scores = java.util.Arrays.copyOf(scores, stored * 2);
                }
                keys[stored] = key;
                scores[stored++] = row.isNullAt(1) ? Double.NaN : row.getDouble(1);
            }
        }
        WindowCounter.Counts c = counter.empty();
        for (int i = 0; i < stored; i++) {
            c.predictionRows++;
            counter.score(c, scores[i], keys[i] == null ? Double.NaN : labels.get(keys[i]));
        }
        return List.of(c).iterator();
    }

    /**
     * Key to greatest label, open addressing with linear probing over parallel arrays: no entry objects and no boxed
     * labels for the window's (many) keys.
     */
    static final class LabelMap {
        private Object[] keys = new Object[1 << 12];
        private double[] values = new double[1 << 12];
        private int size;

        /** Keeps the greatest label of {@code key} ({@link #greatest}). */
        void merge(Object key, double label) {
            int mask = keys.length - 1;
            int i = spread(key.hashCode()) & mask;
            while (keys[i] != null) {
                if (keys[i].equals(key)) {
                    values[i] = greatest(values[i], label);
                    return;
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = label;
            if (++size * 2 > keys.length) {
                grow();
            }
        }

        /** The label of {@code key}; NaN when it has none (which counts as unlabelled, as a NaN label does). */
        double get(Object key) {
            int mask = keys.length - 1;
            int i = spread(key.hashCode()) & mask;
            while (keys[i] != null) {
                if (keys[i].equals(key)) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return Double.NaN;
        }

        private void grow() {
            Object[] oldKeys = keys;
            double[] oldValues = values;
            keys = new Object[oldKeys.length * 2];
            values = new double[oldKeys.length * 2];
            int mask = keys.length - 1;
            for (int j = 0; j < oldKeys.length; j++) {
                if (oldKeys[j] != null) {
                    int i = spread(oldKeys[j].hashCode()) & mask;
                    while (keys[i] != null) {
                        i = (i + 1) & mask;
                    }
                    keys[i] = oldKeys[j];
                    values[i] = oldValues[j];
                }
            }
        }

        private static int spread(int h) {
            return h ^ (h >>> 16) ^ (h >>> 8);
        }
    }

    /** Spark's {@code max} of two doubles: NaN is greater than any other value. */
    static double greatest(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
    }
}
