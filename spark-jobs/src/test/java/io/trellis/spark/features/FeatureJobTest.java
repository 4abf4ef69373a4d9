package io.trellis.spark.features;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.delta.tables.DeltaTable;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.SampleModels;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

class FeatureJobTest {
    private final SparkSession spark = TestingSpark.session();
    private final ModelSpec spec = SampleModels.customerChurn();

    @Test
    void aRetryWithTheSameRunKeyCommitsOnceAndReturnsTheFirstVersion() {
        String path = TestingSpark.newLake().resolve("features/customer-churn").toString();
        DatasetVersion source = TestingSampleData.churnTable();

        FeatureReport first = FeatureJob.run(spark, spec, source, path, "run-1");
        FeatureReport retry = FeatureJob.run(spark, spec, source, path, "run-1");
        FeatureReport next = FeatureJob.run(spark, spec, source, path, "run-2");

        assertThat(first.committed()).isTrue();
        assertThat(retry).isEqualTo(new FeatureReport(path, first.version(), first.trainRows(), first.holdoutRows(), false));
        assertThat(next.version()).isEqualTo(first.version() + 1);
        assertThat(DeltaTable.forPath(spark, path).history().where(col("userMetadata").equalTo("run-1")).count()).isEqualTo(1);
        assertThat(DeltaTable.forPath(spark, path).history().count()).isEqualTo(2);

        assertThat(first.trainRows() + first.holdoutRows()).isEqualTo(TestingSampleData.ROWS);
        assertThat(first.holdoutRows() / (double) TestingSampleData.ROWS).isCloseTo(0.2, within(0.03));

        Dataset<Row> v1 = DeltaTables.read(spark, new DatasetVersion(path, first.version()));
        Dataset<Row> v2 = DeltaTables.read(spark, new DatasetVersion(path, next.version()));
        assertThat(v1.exceptAll(v2).count()).as("the split is a pure function of key and seed").isZero();
        assertThat(v1.schema().apply(FeatureTable.LABEL).dataType()).isEqualTo(DataTypes.DoubleType);
        assertThat(v1.schema().apply("tenure_months").dataType()).isEqualTo(DataTypes.DoubleType);
        assertThat(v1.schema().fieldNames()).startsWith("customer_id", "label").endsWith("device_type", "split");
        assertThat(v1.where(col("satisfaction_score").isNull()).count()).isPositive();
    }

    @Test
    void categoricalNullsBecomeTheirOwnCategory() {
        Dataset<Row> source = spark.sql("SELECT 'k1' AS customer_id, 1 AS churned, CAST(NULL AS STRING) AS region, CAST(NULL AS INT) AS age");
        ModelSpec small = io.trellis.spec.ModelSpecLoader.parse("""
                name: small
                source: {table: t, keyColumn: customer_id}
                label: churned
                features: {numeric: [age], categorical: [region]}
                algorithm: {type: logistic_regression}
                """);
        Row row = FeatureJob.features(small, source).head();
        assertThat(row.<String>getAs("region")).isEqualTo(FeatureTable.MISSING);
        assertThat(row.<Object>getAs("age")).isNull();
        assertThat(row.<Double>getAs("label")).isEqualTo(1.0);
    }
}
