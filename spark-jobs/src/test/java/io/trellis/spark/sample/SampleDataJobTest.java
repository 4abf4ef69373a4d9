package io.trellis.spark.sample;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.delta.tables.DeltaTable;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class SampleDataJobTest {
    private final SparkSession spark = TestingSpark.session();

    @Test
    void sameSeedGivesIdenticalRowsAndARerunAppendsNothing() {
        String a = TestingSpark.newLake().resolve("a").toString();
        String b = TestingSpark.newLake().resolve("b").toString();
        SampleDataOptions options = SampleDataOptions.defaults(a).withRows(900).withDays(3).withSeed(5);

        SampleDataReport first = SampleDataJob.run(spark, options);
        SampleDataReport again = SampleDataJob.run(spark, options);
        SampleDataJob.run(spark, new SampleDataOptions(b, 900, 3, 5, -1, 1.0));

        assertThat(first).isEqualTo(new SampleDataReport(a, 2, 900, 3, 0));
        assertThat(again).isEqualTo(new SampleDataReport(a, 2, 0, 0, 3));
        List<Row> history = DeltaTable.forPath(spark, a).history().select("version", "userMetadata").orderBy("version").collectAsList();
        assertThat(history).extracting(r -> r.getString(1))
                .containsExactly("trellis-sample-data:day=0", "trellis-sample-data:day=1", "trellis-sample-data:day=2");

        Dataset<Row> rowsA = spark.read().format("delta").load(a);
        Dataset<Row> rowsB = spark.read().format("delta").load(b);
        assertThat(rowsA.count()).isEqualTo(900);
        assertThat(rowsA.exceptAll(rowsB).count()).isZero();
        assertThat(rowsA.select("customer_id").distinct().count()).isEqualTo(900);
    }

    @Test
    void valuesDependOnTheSeedNotOnPartitioning() {
        SampleDataOptions options = SampleDataOptions.defaults("unused").withRows(600).withDays(1);
        Dataset<Row> batch = SampleDataJob.batch(spark, options, 0);
        Dataset<Row> repartitioned = SampleDataJob.batch(spark, options, 0).repartition(3);
        Dataset<Row> otherSeed = SampleDataJob.batch(spark, options.withSeed(8), 0);
        assertThat(batch.exceptAll(repartitioned).count()).isZero();
        assertThat(batch.exceptAll(otherSeed).count()).isGreaterThan(500);
    }

    @Test
    void labelIsImbalancedAndFollowsTheFeatures() {
        DatasetVersion churn = TestingSampleData.churnTable();
        Dataset<Row> rows = DeltaTables.read(spark, churn);
        assertThat(rows.schema().fieldNames()).containsExactly("customer_id", "event_date", "batch_day", "churned",
                "tenure_months", "monthly_charges", "total_charges", "support_calls_90d", "avg_session_minutes",
                "sessions_last_30d", "days_since_last_login", "num_products", "discount_pct", "late_payments_12m",
                "data_usage_gb", "age", "satisfaction_score", "referrals", "contract_type", "payment_method", "region",
                "plan_tier", "has_autopay", "device_type");
        Row r = rows.agg(
                avg("churned"),
                avg(when(col("contract_type").equalTo("month-to-month"), col("churned"))),
                avg(when(col("contract_type").equalTo("two-year"), col("churned"))),
                avg(when(col("churned").equalTo(1), col("support_calls_90d"))),
                avg(when(col("churned").equalTo(0), col("support_calls_90d"))),
                avg(when(col("churned").equalTo(1), col("tenure_months"))),
                avg(when(col("churned").equalTo(0), col("tenure_months"))),
                sum(when(col("satisfaction_score").isNull(), 1).otherwise(0)),
                count(col("customer_id"))).head();
        assertThat(r.getDouble(0)).isBetween(0.15, 0.25);
        assertThat(r.getDouble(1)).isGreaterThan(2 * r.getDouble(2));
        assertThat(r.getDouble(3)).isGreaterThan(r.getDouble(4) + 0.3);
        assertThat(r.getDouble(5)).isLessThan(r.getDouble(6));
        assertThat(r.getLong(7) / (double) r.getLong(8)).isCloseTo(0.03, within(0.015));
    }

    @Test
    void driftShiftsTheLaterBatches() {
        SampleDataOptions drifting = SampleDataOptions.defaults("unused").withRows(4000).withDays(4).withDrift(2, 1.0);
        Row before = stats(SampleDataJob.batch(spark, drifting, 1));
        Row after = stats(SampleDataJob.batch(spark, drifting, 3));
        Row undrifted = stats(SampleDataJob.batch(spark, drifting.withDrift(-1, 1.0), 3));

        assertThat(after.getDouble(0)).isGreaterThan(before.getDouble(0) + 10);
        assertThat(after.getDouble(1)).isGreaterThan(before.getDouble(1) * 1.5);
        assertThat(after.getDouble(2)).isGreaterThan(before.getDouble(2) + 0.1);
        assertThat(undrifted.getDouble(0)).isCloseTo(before.getDouble(0), within(3.0));
    }

    private static Row stats(Dataset<Row> batch) {
        return batch.agg(avg("monthly_charges"), avg("support_calls_90d"),
                avg(when(col("region").equalTo("central"), 1.0).otherwise(0.0))).head();
    }
}
