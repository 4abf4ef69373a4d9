package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.date_sub;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.make_dt_interval;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.when;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

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
        if (!Arrays.asList(table.columns()).contains(timeColumn)) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                    "the scoring window's time column '" + timeColumn + "' is not a column of " + source
                            + "; name a DATE or TIMESTAMP column of the table (or score the whole table)");
        }
        DataType type = table.schema().apply(timeColumn).dataType();
        Column latest = max(col(timeColumn));
        Column from;
        if (type.equals(DataTypes.DateType)) {
            from = date_sub(latest, days - 1);
        } else if (type.equals(DataTypes.TimestampType) || type.equals(DataTypes.TimestampNTZType)) {
            from = latest.minus(make_dt_interval(lit(days)));
        } else {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                    "the scoring window's time column '" + timeColumn + "' of " + source + " is " + type.simpleString()
                            + ", not a date or timestamp; name a DATE or TIMESTAMP column (or score the whole table)");
        }
        // As strings in the session time zone: what the report shows is exactly what the filter compares with.
        // The latest marked time falls in the window exactly when some marked row does.
        Column anyMarked = marked == null ? lit(null).cast("boolean") : coalesce(max(when(marked, col(timeColumn))).geq(from), lit(false));
        Row bounds = table.agg(from.cast("string"), latest.cast("string"), anyMarked).head();
        if (bounds.isNullAt(1)) {
            throw new TrellisException(ErrorCode.EMPTY_TABLE,
                    "the time column '" + timeColumn + "' of " + source + " has no values, so there is no recent window"
                            + " to score; load data first (or score the whole table)");
        }
        String fromValue = bounds.getString(0);
        String toValue = bounds.getString(1);
        Dataset<Row> rows = table.where(col(timeColumn).geq(lit(fromValue).cast(type)));
        return new Selection(rows, fromValue, toValue, marked == null ? null : bounds.getBoolean(2));
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
