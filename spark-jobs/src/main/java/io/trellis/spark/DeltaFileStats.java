package io.trellis.spark;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.make_dt_interval;
import static org.apache.spark.sql.functions.max;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The per-file statistics Delta keeps in its log for a table version ({@code numRecords}, {@code minValues},
 * {@code maxValues}, {@code nullCount} of each data file's first columns), read without touching the data. They only
 * ever give <em>bounds</em> that let an exact query skip files: a caller still runs the query, over the files the
 * bound leaves. No Spark job reads data here: the files and their stats come from the Delta snapshot's cached state.
 *
 * <p>Why bounds and not answers: timestamp statistics are truncated to milliseconds, strings to a prefix, a file with
 * a deletion vector keeps the statistics of its rows before the deletion, and a file may have no statistics at all.
 */
public final class DeltaFileStats {
    private static final String STATS = "stats";

    private final Dataset<Row> files;
    private final StructType statsSchema;

    private DeltaFileStats(Dataset<Row> files, StructType statsSchema) {
        this.files = files;
        this.statsSchema = statsSchema;
    }

    /** The data files of {@code table} (one Delta snapshot) with their parsed statistics. */
    public static DeltaFileStats of(SparkSession spark, DatasetVersion table) {
        DeltaLog log = DeltaLog.forTable(spark, table.tablePath());
        Snapshot snapshot = log.getSnapshotAt(table.version(), log.getSnapshotAt$default$2(), log.getSnapshotAt$default$3(),
                log.getSnapshotAt$default$4());
        return new DeltaFileStats(snapshot.withStats(), snapshot.statsSchema());
    }

    /** Whether the log keeps min/max statistics for the top-level column {@code column} (by its name in the data). */
    public boolean hasMinMax(String column) {
        return has("minValues", column) && has("maxValues", column);
    }

    /** Whether the log keeps null counts for the top-level column {@code column}. */
    public boolean hasNullCount(String column) {
        return has("nullCount", column) && Arrays.asList(statsSchema.fieldNames()).contains("numRecords");
    }

    private boolean has(String kind, String column) {
        if (!Arrays.asList(statsSchema.fieldNames()).contains(kind)) {
            return false;
        }
        DataType t = statsSchema.apply(kind).dataType();
        return t instanceof StructType s && Arrays.asList(s.fieldNames()).contains(column);
    }

    /** The files, one row each, with {@code stats} (a struct; null when the file has none) and {@code deletionVector}. */
    public Dataset<Row> files() {
        return files;
    }

    /** A file's statistic {@code kind} ({@code minValues}, {@code maxValues}, {@code nullCount}) of {@code column}. */
    public static Column stat(String kind, String column) {
        return col(STATS).getField(kind).getField(column);
    }

    /** A file's row count (null without statistics). */
    public static Column numRecords() {
        return col(STATS).getField("numRecords");
    }

    /** Whether a file has no deletion vector (its statistics describe exactly its live rows). */
    public static Column noDeletionVector() {
        return col("deletionVector").isNull();
    }

    /**
     * A value no greater than the greatest non-null value of {@code column} (a DATE, TIMESTAMP or TIMESTAMP_NTZ column
     * of type {@code type}) in this table version, from the files' max statistics, as a literal of that type; empty
     * when no file gives one (no statistics for the column, or only files with deletion vectors). Rows with
     * {@code column >= bound} include every row holding the column's greatest value, so an exact aggregate filtered to
     * them is the aggregate over the whole table, and Delta skips the files whose max is below the bound.
     */
    public Optional<Column> lowerBoundOfMax(String column, DataType type) {
        return lowerBoundOfMax(column, type, lit(true));
    }

    /**
     * {@link #lowerBoundOfMax(String, DataType)} from only the files for which {@code everyRow} (a condition on the
     * statistics, see {@link #stat}) says that every row satisfies a filter: the bound is then no greater than the
     * greatest value among the rows satisfying that filter.
     */
    public Optional<Column> lowerBoundOfMax(String column, DataType type, Column everyRow) {
        if (!hasMinMax(column)) {
            return Optional.empty();
        }
        Column m = max(stat("maxValues", column));
        if (!type.equals(DataTypes.DateType)) {
            // Timestamp statistics are truncated to the millisecond: a millisecond lower is below the true max.
            m = m.minus(make_dt_interval(lit(0), lit(0), lit(0), lit(new BigDecimal("0.001"))));
        }
        Row r = files.where(noDeletionVector().and(coalesce(everyRow, lit(false)))).agg(m.cast(type)).head();
        return r.isNullAt(0) ? Optional.empty() : Optional.of(lit(r.get(0)).cast(type));
    }
}
