package io.trellis.spark;

import io.delta.tables.DeltaTable;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The few Delta operations every job shares: existence, the latest version, time travel, and finding
 * the commit an idempotent write made (by its {@code userMetadata}). History reads are driver-local
 * (no Spark job).
 */
public final class DeltaTables {
    private DeltaTables() {}

    public static boolean exists(SparkSession spark, String path) {
        return DeltaTable.isDeltaTable(spark, path);
    }

    /** Throws MISSING_TABLE naming the path and how to create it. */
    public static void requireExists(SparkSession spark, String path) {
        if (!exists(spark, path)) {
            throw new TrellisException(ErrorCode.MISSING_TABLE,
                    "no Delta table at " + path + "; run `trellis sample-data` or `trellis ingest` first"
                            + " (or fix source.table in the model spec / the lake root)");
        }
    }

    public static long latestVersion(SparkSession spark, String path) {
        Row last = DeltaTable.forPath(spark, path).history(1).select("version").head();
        return last.getLong(0);
    }

    /** The table as of one version (time travel), so every read in a run sees the same snapshot. */
    public static Dataset<Row> read(SparkSession spark, DatasetVersion table) {
        return spark.read().format("delta").option("versionAsOf", table.version()).load(table.tablePath());
    }

    /** The newest commit whose userMetadata equals {@code key}, if any. */
    public static OptionalLong versionWithUserMetadata(SparkSession spark, String path, String key) {
        if (!exists(spark, path)) {
            return OptionalLong.empty();
        }
        List<Row> rows = DeltaTable.forPath(spark, path).history()
                .where(functions.col("userMetadata").equalTo(key))
                .select(functions.max("version"))
                .collectAsList();
        if (rows.isEmpty() || rows.get(0).isNullAt(0)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(rows.get(0).getLong(0));
    }

    /** Every userMetadata value in the table's history (empty when there is no table). */
    public static List<String> userMetadata(SparkSession spark, String path) {
        if (!exists(spark, path)) {
            return List.of();
        }
        return DeltaTable.forPath(spark, path).history()
                .where(functions.col("userMetadata").isNotNull())
                .select("userMetadata").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    }

    /** The operation metrics of one commit (e.g. numOutputRows). */
    public static Map<String, String> operationMetrics(SparkSession spark, String path, long version) {
        List<Row> rows = DeltaTable.forPath(spark, path).history()
                .where(functions.col("version").equalTo(version))
                .select("operationMetrics").collectAsList();
        if (rows.isEmpty() || rows.get(0).isNullAt(0)) {
            return Map.of();
        }
        return rows.get(0).getJavaMap(0);
    }
}
