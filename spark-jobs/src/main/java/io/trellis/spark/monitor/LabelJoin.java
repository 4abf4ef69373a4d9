package io.trellis.spark.monitor;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * The label join of monitoring's performance check, done in one shuffle: the window's labelled {@code (key, label)}
 * rows and the stored {@code (key, score)} rows are repartitioned together by key, and every partition looks each
 * stored score's label up in a hash map of its keys (the greatest label per key, as {@code max} orders doubles: NaN
 * above everything), then counts the scores with the {@link WindowCounter}. The same result as the left join of the
 * stored scores with the window's {@code groupBy(key).max(label)}, without its aggregation exchange and the sort-merge
 * join's second exchange and two sorts.
 *
 * <p>Input rows, by position: the key (never a floating-point or complex type: Java equality must be Spark's), the
 * label ({@code double}, non-null, window rows only), the score ({@code double}, stored rows only) and the kind
 * ({@link WindowCounter#SOURCE_ROW} for a window row, {@link WindowCounter#PREDICTION_ROW} for a stored score). A null
 * key matches nothing, as in a join. A partition buffers its stored scores until it has seen all its window rows.
 */
final class LabelJoin implements MapPartitionsFunction<Row, WindowCounter.Counts> {
    private static final long serialVersionUID = 1L;

    private final WindowCounter counter;
    private final int features;

    /** {@code counter} counts the joined rows; {@code features}: how many feature columns precede its label column. */
    LabelJoin(WindowCounter counter, int features) {
        this.counter = counter;
        this.features = features;
    }

    @Override
    public Iterator<WindowCounter.Counts> call(Iterator<Row> rows) {
        Map<Object, Double> labels = new HashMap<>();
        List<Object> keys = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        while (rows.hasNext()) {
            Row row = rows.next();
            Object key = row.get(0);
            if (row.getInt(3) == WindowCounter.SOURCE_ROW) {
                if (key != null && !row.isNullAt(1)) {
                    labels.merge(key, row.getDouble(1), LabelJoin::greatest);
                }
            } else {
                keys.add(key);
                scores.add(row.isNullAt(2) ? null : row.getDouble(2));
            }
        }
        Iterator<Row> joined = new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < keys.size();
            }

            @Override
            public Row next() {
                Object key = keys.get(next);
                Double score = scores.get(next++);
                Object[] values = new Object[features + 3];
                values[features] = key == null ? null : labels.get(key);
                values[features + 1] = score;
                values[features + 2] = WindowCounter.PREDICTION_ROW;
                return RowFactory.create(values);
            }
        };
        return counter.call(joined);
    }

    /** Spark's {@code max} of two doubles: NaN is greater than any other value. */
    static double greatest(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b);
    }
}
