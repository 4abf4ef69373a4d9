package io.trellis.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.TrellisException;
import java.sql.Timestamp;
import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A retrain's data window on the source table: rows whose time column ({@code scoring.timeColumn}, a date or a
 * timestamp, compared as a UTC timestamp) lies in {@code [from, to)}. The snapshot step validates and the feature
 * step trains on exactly these rows; a reproduction applies the recorded window the same way.
 */
public final class DataWindows {
    private DataWindows() {}

    /** {@code source} restricted to the window of {@code overrides}; {@code source} itself when there is none. */
    public static Dataset<Row> apply(Dataset<Row> source, ModelSpec spec, RetrainOverrides overrides) {
        if (overrides == null || !overrides.windowed()) {
            return source;
        }
        String column = spec.scoring() == null ? null : spec.scoring().timeColumn();
        if (column == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "model " + spec.name()
                    + " declares no time column (scoring.timeColumn), so a data window cannot be applied");
        }
        if (!Arrays.asList(source.columns()).contains(column)) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH, "the source table lacks the time column '" + column
                    + "' that the data window of model " + spec.name() + " is measured on");
        }
        Column time = col(column).cast("timestamp");
        Column keep = lit(true);
        if (overrides.from() != null) {
            keep = keep.and(time.geq(lit(Timestamp.from(overrides.fromInstant()))));
        }
        if (overrides.to() != null) {
            keep = keep.and(time.lt(lit(Timestamp.from(overrides.toInstant()))));
        }
        return source.where(keep);
    }

    /** The window as people read it: {@code event_date in [2025-01-02T00:00:00Z, 2025-01-04T00:00:00Z)}. */
    public static String describe(ModelSpec spec, RetrainOverrides overrides) {
        return spec.scoring().timeColumn() + " in [" + (overrides.from() == null ? "-∞" : overrides.from()) + ", "
                + (overrides.to() == null ? "+∞" : overrides.to()) + ")";
    }
}
