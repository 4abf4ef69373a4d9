package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.make_dt_interval;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaFileStats;
import io.trellis.spark.DeltaTables;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;

/**
 * The rows a scoring run reads: the most recent {@code days} of a table by {@code timeColumn}, measured back from
 * the table's own latest value (not the wall clock, so a re-run of a pinned version selects the same rows). A null
 * {@code timeColumn} or {@code days <= 0} means the whole table.
 *
 * <p>On a DATE column the window is the last {@code days} calendar days up to and including the latest date; on a
 * TIMESTAMP (or TIMESTAMP_NTZ) column it is {@code [latest - days, latest]}. Rows with a null time are outside
 * every window.
 */
public record ScoringWindow(String timeColumn, int days) {

    public static ScoringWindow wholeTable() {
        return new ScoringWindow(null, 0);
    }

    public static ScoringWindow lastDays(String timeColumn, int days) {
        return new ScoringWindow(timeColumn, days);
    }

    public boolean coversWholeTable() {
        return timeColumn == null || timeColumn.isBlank() || days <= 0;
    }

    /**
     * The window's rows of {@code source} (lazy) and its bounds, found with one aggregate over the time column.
     * Fails with SCHEMA_MISMATCH when the time column is missing or not a date/timestamp, and with EMPTY_TABLE when
     * it holds no value to measure back from.
     */
    public Selection select(SparkSession spark, DatasetVersion source) {
        return select(spark, source, null);
    }

    /**
     * {@link #select(SparkSession, DatasetVersion)}, also telling whether any row of the window satisfies
     * {@code marked} (for example "has a label"), found in the same aggregate: {@link Selection#anyMarked()} is
     * {@code null} when {@code marked} is null or the window is the whole table (no aggregate runs then).
     */
    public Selection select(SparkSession spark, DatasetVersion source, Column marked) {
        Dataset<Row> table = DeltaTables.read(spark, source);
        if (coversWholeTable()) {
            return new Selection(table, null, null);
        }
        DataType type = timeType(table, source);
        Column latest = max(col(timeColumn));
        Column from = from(latest, type);
        // As strings in the session time zone: what the report shows is exactly what the filter compares with.
        // The latest marked time falls in the window exactly when some marked row does.
        Column anyMarked = marked == null ? lit(null).cast("boolean") : coalesce(max(when(marked, col(timeColumn))).geq(from), lit(false));
        Row bounds = table.agg(from.cast("string"), latest.cast("string"), anyMarked).head();
        if (bounds.isNullAt(1)) {
            throw noValues(source);
        }
        String fromValue = bounds.getString(0);
        String toValue = bounds.getString(1);
        Dataset<Row> rows = table.where(col(timeColumn).geq(lit(fromValue).cast(type)));
        return new Selection(rows, fromValue, toValue, marked == null ? null : bounds.getBoolean(2));
    }

    /**
     * The same selection as {@link #select(SparkSession, DatasetVersion, Column)} with {@code marked} = "{@code
     * labelColumn} holds a value" ({@code labelColumn} cast to DOUBLE is not null; null {@code labelColumn}: not
     * asked), without a scan of the whole table. The latest time is the exact aggregate over only the rows at or after
     * a lower bound read from Delta's per-file max statistics (so Delta skips every file that ends before it: in a
     * table appended day by day, all but the last day's); whether the window holds a label is read from the files'
     * null counts where they are certain (no file reaching the window has a label value: false; a file lying wholly
     * inside the window, with no deletion vector, has a numeric label value: true), and otherwise found exactly, over
     * the window's rows only. Without usable statistics it falls back to the exact aggregates.
     */
    public Selection selectUsingFileStats(SparkSession spark, DatasetVersion source, String labelColumn) {
        Dataset<Row> table = DeltaTables.read(spark, source);
        if (coversWholeTable()) {
            return new Selection(table, null, null);
        }
        DataType type = timeType(table, source);
        DeltaFileStats stats = DeltaFileStats.of(spark, source);
        Column latest = max(col(timeColumn));
        Column fromOfLatest = from(latest, type);
        Row bounds = null;
        Optional<Column> lower = stats.lowerBoundOfMax(timeColumn, type);
        if (lower.isPresent()) {
            bounds = table.where(col(timeColumn).geq(lower.get())).agg(fromOfLatest.cast("string"), latest.cast("string")).head();
        }
        if (bounds == null || bounds.isNullAt(1)) {
            // No statistics to start from (or none that held): the aggregate over the whole table.
            bounds = table.agg(fromOfLatest.cast("string"), latest.cast("string")).head();
        }
        if (bounds.isNullAt(1)) {
            throw noValues(source);
        }
        String fromValue = bounds.getString(0);
        String toValue = bounds.getString(1);
        Column from = lit(fromValue).cast(type);
        Dataset<Row> rows = table.where(col(timeColumn).geq(from));
        Boolean anyLabelled = labelColumn == null ? null : anyLabelled(stats, table, rows, type, from, labelColumn);
        return new Selection(rows, fromValue, toValue, anyLabelled);
    }

    /** Whether some row of the window ({@code rows}: time at or after {@code from}) has a label value (cast to DOUBLE). */
    private boolean anyLabelled(DeltaFileStats stats, Dataset<Row> table, Dataset<Row> rows, DataType type, Column from,
                                String label) {
        Column marked = col(label).cast("double").isNotNull();
        if (stats.hasMinMax(timeColumn) && stats.hasNullCount(timeColumn) && stats.hasNullCount(label)) {
            Column millisecond = make_dt_interval(lit(0), lit(0), lit(0), lit(new BigDecimal("0.001")));
            Column max = DeltaFileStats.stat("maxValues", timeColumn);
            Column min = DeltaFileStats.stat("minValues", timeColumn);
            boolean date = type.equals(DataTypes.DateType);
            // A file may hold a window row unless its (millisecond-truncated) max is below the window's start.
            Column reaches = max.isNull().or((date ? max : max.plus(millisecond)).geq(from));
            Column noLabel = DeltaFileStats.stat("nullCount", label).equalTo(DeltaFileStats.numRecords());
            // Every row of the file is in the window and it has a label value that casts to a non-null DOUBLE.
            Column surelyLabelled = DeltaFileStats.noDeletionVector()
                    .and(DeltaFileStats.stat("nullCount", timeColumn).equalTo(0))
                    .and((date ? min : min.minus(millisecond)).geq(from))
                    .and(DeltaFileStats.stat("nullCount", label).lt(DeltaFileStats.numRecords()))
                    .and(lit(numeric(table.schema().apply(label).dataType())));
            Row r = stats.files().where(reaches).agg(
                    sum(when(coalesce(noLabel, lit(false)), 0).otherwise(1)),
                    max(coalesce(surelyLabelled, lit(false)))).head();
            long maybe = r.isNullAt(0) ? 0 : r.getLong(0);
            if (maybe == 0) {
                return false;
            }
            if (!r.isNullAt(1) && r.getBoolean(1)) {
                return true;
            }
        }
        return !rows.where(marked).isEmpty();
    }

    /** Whether every non-null value of the type casts to a non-null DOUBLE. */
    private static boolean numeric(DataType type) {
        return type instanceof NumericType || type.equals(DataTypes.BooleanType);
    }

    private DataType timeType(Dataset<Row> table, DatasetVersion source) {
        if (!Arrays.asList(table.columns()).contains(timeColumn)) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                    "the scoring window's time column '" + timeColumn + "' is not a column of " + source
                            + "; name a DATE or TIMESTAMP column of the table (or score the whole table)");
        }
        DataType type = table.schema().apply(timeColumn).dataType();
        if (!type.equals(DataTypes.DateType) && !type.equals(DataTypes.TimestampType) && !type.equals(DataTypes.TimestampNTZType)) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                    "the scoring window's time column '" + timeColumn + "' of " + source + " is " + type.simpleString()
                            + ", not a date or timestamp; name a DATE or TIMESTAMP column (or score the whole table)");
        }
        return type;
    }

    /** The window's first time given its latest: the last {@code days} calendar days, or {@code [latest - days, latest]}. */
    private Column from(Column latest, DataType type) {
        return type.equals(DataTypes.DateType) ? date_sub(latest, days - 1) : latest.minus(make_dt_interval(lit(days)));
    }

    private TrellisException noValues(DatasetVersion source) {
        return new TrellisException(ErrorCode.EMPTY_TABLE,
                "the time column '" + timeColumn + "' of " + source + " has no values, so there is no recent window"
                        + " to score; load data first (or score the whole table)");
    }

    /**
     * The selected rows (lazy), the window's inclusive bounds as strings (both null for the whole table) and whether
     * any of its rows is marked (null: not asked, or not known).
     */
    public record Selection(Dataset<Row> rows, String from, String to, Boolean anyMarked) {
        public Selection(Dataset<Row> rows, String from, String to) {
            this(rows, from, to, null);
        }
    }
}
