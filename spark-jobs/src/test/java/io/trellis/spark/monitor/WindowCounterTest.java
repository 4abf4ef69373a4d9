package io.trellis.spark.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.spark.testing.TestingSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.feature.Bucketizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The counter's numeric buckets are Spark's own Bucketizer buckets (splits -inf, edges, +inf; invalid kept apart). */
class WindowCounterTest {

    @Test
    void numericBucketsAgreeWithSparksBucketizerOnEdgesInfinitiesZerosAndNaN() {
        double[] edges = {-2.5, -0.0 + 0.0, 1.0, 3.0, 1e9};
        double[] values = {Double.NEGATIVE_INFINITY, -1e300, -2.5, -2.4999, -1.0, -0.0, 0.0, 0.5, 1.0, 2.999, 3.0, 3.0001, 1e9,
                1e10, Double.POSITIVE_INFINITY, Double.NaN};
        SparkSession spark = TestingSpark.session();
        List<Row> rows = new ArrayList<>();
        for (double v : values) {
            rows.add(RowFactory.create(v));
        }
        double[] splits = new double[edges.length + 2];
        splits[0] = Double.NEGATIVE_INFINITY;
        System.arraycopy(edges, 0, splits, 1, edges.length);
        splits[splits.length - 1] = Double.POSITIVE_INFINITY;
        Dataset<Row> bucketed = new Bucketizer().setInputCol("v").setOutputCol("b").setSplits(splits).setHandleInvalid("keep")
                .transform(spark.createDataFrame(rows, new StructType().add("v", DataTypes.DoubleType)));
        List<Row> expected = bucketed.collectAsList();
        assertThat(expected).hasSize(values.length);
        for (Row r : expected) {
            double v = r.getDouble(0);
            assertThat(WindowCounter.numericBucket(edges, v)).as("bucket of %s", v).isEqualTo((int) r.getDouble(1));
        }
        assertThat(WindowCounter.numericBucket(edges, Double.NaN)).isEqualTo(edges.length + 1);
    }
}
