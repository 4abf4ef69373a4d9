package io.trellis.spark.sample;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.cos;
import static org.apache.spark.sql.functions.date_add;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.round;
import static org.apache.spark.sql.functions.shiftrightunsigned;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobArguments;
import io.trellis.spark.JobMain;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.HashSet;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Writes the synthetic customer-churn table that the sample model ({@code customer-churn.yaml}) trains on,
 * as daily batches appended to a raw Delta table.
 *
 * <p>Every value is a function of (seed, row id, column salt) through {@code xxhash64}, never
 * {@code rand()}, so a seed gives the same rows however Spark partitions the work. The label is drawn from
 * a logistic model of several features (short tenure, month-to-month contracts, support calls, late
 * payments, low satisfaction and no autopay raise churn), so the signal is learnable but noisy. Each batch
 * is an idempotent Delta append ({@code txnAppId}, {@code txnVersion = day + 1}): re-running appends only
 * the batches that are missing.
 */
public final class SampleDataJob {
    /** One transaction id per table: a batch of day d is transaction version d + 1 of it. */
    public static final String TXN_APP_ID = "trellis-sample-data";
    public static final String FIRST_DATE = "2025-01-01";

    private static final double TWO_POW_53 = 9007199254740992.0;

    private SampleDataJob() {}

    public static SampleDataReport run(SparkSession spark, SampleDataOptions options) {
        Set<String> present = new HashSet<>(DeltaTables.userMetadata(spark, options.tablePath()));
        long rowsWritten = 0;
        int written = 0;
        int skipped = 0;
        for (int day = 0; day < options.days(); day++) {
            if (present.contains(batchMarker(day))) {
                skipped++;
                continue;
            }
            batch(spark, options, day).write().format("delta").mode("append")
                    .option("txnAppId", TXN_APP_ID)
                    .option("txnVersion", day + 1L)
                    .option("userMetadata", batchMarker(day))
                    .save(options.tablePath());
            rowsWritten += options.batchStart(day + 1) - options.batchStart(day);
            written++;
        }
        long version = DeltaTables.latestVersion(spark, options.tablePath());
        return new SampleDataReport(options.tablePath(), version, rowsWritten, written, skipped);
    }

    static String batchMarker(int day) {
        return TXN_APP_ID + ":day=" + day;
    }

    /** The rows of one daily batch (lazy; nothing runs until it is written or collected). */
    public static Dataset<Row> batch(SparkSession spark, SampleDataOptions options, int day) {
        long start = options.batchStart(day);
        long end = options.batchStart(day + 1);
        int partitions = (int) Math.max(1, Math.min(spark.sparkContext().defaultParallelism(), (end - start + 199_999) / 200_000));
        return new Rows(options.seed(), options.drifted(day) ? options.driftStrength() : 0.0)
                .of(spark.range(start, end, 1, partitions).toDF(), day);
    }

    /** Column expressions for one seed and drift level. */
    private static final class Rows {
        private final long seed;
        private final double drift;

        Rows(long seed, double drift) {
            this.seed = seed;
            this.drift = drift;
        }

        /** Uniform in [0, 1): the top 53 bits of a hash of (row id, seed, salt). */
        Column u(String salt) {
            return shiftrightunsigned(xxhash64(col("id"), lit(seed), lit(salt)), 11).cast("double").divide(TWO_POW_53);
        }

        /** Standard normal by Box-Muller from two independent uniforms. */
        Column normal(String salt) {
            Column r = sqrt(log(u(salt + ".r").plus(1e-12)).multiply(-2.0));
            return r.multiply(cos(u(salt + ".t").multiply(2 * Math.PI)));
        }

        /** Exponential with the given mean (may be a column). */
        Column exponential(String salt, Column mean) {
            return log(lit(1.0).minus(u(salt))).multiply(-1.0).multiply(mean);
        }

        Column exponential(String salt, double mean) {
            return exponential(salt, lit(mean));
        }

        Column pick(String salt, double[] cumulative, String[] values) {
            Column c = lit(values[values.length - 1]);
            for (int i = values.length - 2; i >= 0; i--) {
                c = when(u(salt).lt(cumulative[i]), values[i]).otherwise(c);
            }
            return c;
        }

        static Column clampInt(Column c, int min, int max) {
            return least(greatest(c, lit(min)), lit(max)).cast("int");
        }

        Dataset<Row> of(Dataset<Row> ids, int day) {
            double regionShift = Math.min(1.0, drift / 2.0);
            double[] regions = blend(new double[] {0.25, 0.45, 0.65, 0.85}, new double[] {0.10, 0.20, 0.35, 0.50}, regionShift);
            Dataset<Row> base = ids.select(
                    col("id"),
                    format_string("C%08d", col("id")).as("customer_id"),
                    date_add(to_date(lit(FIRST_DATE)), day).as("event_date"),
                    lit(day).as("batch_day"),
                    pick("contract", new double[] {0.52, 0.78}, new String[] {"month-to-month", "one-year", "two-year"}).as("contract_type"),
                    pick("payment", new double[] {0.34, 0.60, 0.84}, new String[] {"electronic_check", "credit_card", "bank_transfer", "mailed_check"}).as("payment_method"),
                    pick("region", regions, new String[] {"north", "south", "east", "west", "central"}).as("region"),
                    pick("tier", new double[] {0.40, 0.78}, new String[] {"basic", "standard", "premium"}).as("plan_tier"),
                    pick("device", new double[] {0.45, 0.75, 0.90}, new String[] {"mobile", "desktop", "tablet", "smart_tv"}).as("device_type"),
                    clampInt(floor(u("products").multiply(u("products2")).multiply(4)).plus(1), 1, 4).as("num_products"),
                    normal("engagement").as("engagement"),
                    u("autopay").as("u_autopay"));

            Column contractMean = when(col("contract_type").equalTo("month-to-month"), 14.0)
                    .when(col("contract_type").equalTo("one-year"), 32.0).otherwise(52.0);
            Column tierBase = when(col("plan_tier").equalTo("basic"), 29.9)
                    .when(col("plan_tier").equalTo("standard"), 59.9).otherwise(94.9);
            Column autopayShare = when(col("payment_method").isin("credit_card", "bank_transfer"), 0.8).otherwise(0.15);
            Dataset<Row> features = base.select(
                    col("*"),
                    when(col("u_autopay").lt(autopayShare), "yes").otherwise("no").as("has_autopay"),
                    clampInt(floor(exponential("tenure", contractMean)), 0, 240).as("tenure_months"),
                    least(greatest(round(tierBase.plus(col("num_products").minus(1).multiply(6.0))
                            .plus(normal("charges").multiply(8.0)).plus(drift * 18.0), 2), lit(5.0)), lit(1000.0)).as("monthly_charges"),
                    clampInt(floor(exponential("support", 1.2 * (1.0 + drift))), 0, 30).as("support_calls_90d"),
                    round(exp(normal("session").multiply(0.5).plus(2.9).plus(col("engagement").multiply(0.15))), 1).as("avg_session_minutes"),
                    clampInt(round(col("engagement").multiply(7.0).plus(16.0).plus(normal("sessions").multiply(3.0))), 0, 60).as("sessions_last_30d"),
                    clampInt(floor(exponential("login", exp(col("engagement").multiply(-0.6).plus(1.6)))), 0, 365).as("days_since_last_login"),
                    when(u("discount").lt(0.65), 0.0).otherwise(round(u("discount2").multiply(30.0), 1)).as("discount_pct"),
                    round(exp(normal("data").multiply(0.8).plus(2.3 + 0.3 * drift)), 2).as("data_usage_gb"),
                    clampInt(round(normal("age").multiply(14.0).plus(44.0)), 18, 90).as("age"),
                    clampInt(floor(exponential("referrals", 0.6)), 0, 20).as("referrals"));

            Dataset<Row> withDependent = features.select(
                    col("*"),
                    round(col("monthly_charges").multiply(col("tenure_months")).multiply(u("total").multiply(0.06).plus(0.97)), 2).as("total_charges"),
                    clampInt(floor(exponential("late", when(col("has_autopay").equalTo("yes"), 0.35).otherwise(1.1))), 0, 12).as("late_payments_12m"),
                    when(u("satisfaction.null").lt(0.03), lit(null).cast("int"))
                            .otherwise(clampInt(round(lit(3.7).minus(col("support_calls_90d").multiply(0.3))
                                    .plus(col("engagement").multiply(0.3)).plus(normal("satisfaction").multiply(0.8))), 1, 5))
                            .as("satisfaction_score"));

            Column logit = lit(-1.75)
                    .minus(least(col("tenure_months"), lit(72)).multiply(0.035))
                    .plus(when(col("contract_type").equalTo("month-to-month"), 0.9)
                            .when(col("contract_type").equalTo("two-year"), -0.9).otherwise(0.0))
                    .plus(col("support_calls_90d").multiply(0.28))
                    .plus(col("late_payments_12m").multiply(0.35))
                    .minus(coalesce(col("satisfaction_score").cast("double"), lit(3.0)).minus(3.0).multiply(0.45))
                    .plus(when(col("has_autopay").equalTo("no"), 0.45).otherwise(0.0))
                    .plus(col("monthly_charges").minus(60.0).multiply(0.008))
                    .plus(least(col("days_since_last_login"), lit(60)).multiply(0.02))
                    .minus(col("sessions_last_30d").minus(16).multiply(0.02))
                    .minus(col("discount_pct").multiply(0.01))
                    .plus(when(col("payment_method").equalTo("electronic_check"), 0.3).otherwise(0.0));
            Column churnProbability = lit(1.0).divide(lit(1.0).plus(exp(logit.multiply(-1.0))));

            return withDependent.select(
                    col("customer_id"),
                    col("event_date"),
                    col("batch_day"),
                    when(u("label").lt(churnProbability), 1).otherwise(0).as("churned"),
                    col("tenure_months"),
                    col("monthly_charges"),
                    col("total_charges"),
                    col("support_calls_90d"),
                    col("avg_session_minutes"),
                    col("sessions_last_30d"),
                    col("days_since_last_login"),
                    col("num_products"),
                    col("discount_pct"),
                    col("late_payments_12m"),
                    col("data_usage_gb"),
                    col("age"),
                    col("satisfaction_score"),
                    col("referrals"),
                    col("contract_type"),
                    col("payment_method"),
                    col("region"),
                    col("plan_tier"),
                    col("has_autopay"),
                    col("device_type"));
        }

        private static double[] blend(double[] a, double[] b, double t) {
            double[] out = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                out[i] = a[i] * (1 - t) + b[i] * t;
            }
            return out;
        }
    }

    /**
     * {@code --table <path> [--rows N] [--days D] [--seed S] [--drift-from-day D] [--drift-strength X] [--report <path>]}
     */
    public static void main(String[] args) {
        JobMain.run("sample-data", args, Set.of("table", "rows", "days", "seed", "drift-from-day", "drift-strength"),
                (spark, a) -> run(spark, options(a)));
    }

    static SampleDataOptions options(JobArguments a) {
        try {
            return new SampleDataOptions(a.require("table"),
                    a.getLong("rows", SampleDataOptions.DEFAULT_ROWS),
                    (int) a.getLong("days", SampleDataOptions.DEFAULT_DAYS),
                    a.getLong("seed", SampleDataOptions.DEFAULT_SEED),
                    (int) a.getLong("drift-from-day", SampleDataOptions.NO_DRIFT),
                    a.getDouble("drift-strength", 1.0));
        } catch (IllegalArgumentException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    "sample-data: " + e.getMessage());
        }
    }
}
