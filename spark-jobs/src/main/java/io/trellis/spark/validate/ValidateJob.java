package io.trellis.spark.validate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.trellis.spark.DataWindows;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobMain;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.TrellisException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;

/**
 * Pins the source table's latest Delta version and checks it against the model spec: first the schema
 * (no Spark job), then every data-quality rule in ONE aggregation pass over that version.
 */
public final class ValidateJob {
    private ValidateJob() {}

    public static SnapshotReport run(SparkSession spark, ModelSpec spec, String tablePath) {
        return run(spark, spec, tablePath, null);
    }

    /**
     * As {@link #run(SparkSession, ModelSpec, String)}, with the rules run on the rows of the retrain's data window
     * only (when {@code overrides} has one). The report's row count stays the whole pinned version's (it describes
     * the dataset version); the window and its row count are the report's {@value RuleResult#DATA_WINDOW} rule.
     */
    public static SnapshotReport run(SparkSession spark, ModelSpec spec, String tablePath, RetrainOverrides overrides) {
        DeltaTables.requireExists(spark, tablePath);
        DatasetVersion pinned = new DatasetVersion(tablePath, DeltaTables.latestVersion(spark, tablePath));
        Dataset<Row> whole = DeltaTables.read(spark, pinned);
        checkSchema(spec, whole, tablePath);
        boolean windowed = overrides != null && overrides.windowed();
        Dataset<Row> data = DataWindows.apply(whole, spec, overrides);

        String label = spec.label();
        List<String> referenced = spec.referencedColumns();
        Map<String, ModelSpec.Range> ranges = new TreeMap<>(spec.quality().ranges());

        List<Column> aggs = new ArrayList<>();
        aggs.add(count(lit(1)).as("rows"));
        for (int i = 0; i < referenced.size(); i++) {
            aggs.add(sum(when(col(referenced.get(i)).isNull(), 1L).otherwise(0L)).as("null_" + i));
        }
        int r = 0;
        for (Map.Entry<String, ModelSpec.Range> e : ranges.entrySet()) {
            Column c = col(e.getKey()).cast("double");
            Column out = lit(false);
            if (e.getValue().min() != null) {
                out = out.or(c.lt(e.getValue().min()));
            }
            if (e.getValue().max() != null) {
                out = out.or(c.gt(e.getValue().max()));
            }
            aggs.add(sum(when(c.isNotNull().and(out), 1L).otherwise(0L)).as("range_out_" + r));
            aggs.add(min(c).as("range_min_" + r));
            aggs.add(max(c).as("range_max_" + r));
            r++;
        }
        Column labelValue = col(label).cast("double");
        aggs.add(sum(when(labelValue.isNotNull().and(labelValue.isin(0.0, 1.0).unary_$bang()), 1L).otherwise(0L)).as("label_bad"));

        Row row = data.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new)).head();
        long rows = row.getLong(row.fieldIndex("rows"));
        if (rows == 0 && windowed) {
            throw new TrellisException(ErrorCode.EMPTY_TABLE,
                    "the Delta table " + tablePath + " has no rows with " + DataWindows.describe(spec, overrides) + " at version "
                            + pinned.version() + "; widen the retrain's data window");
        }
        if (rows == 0) {
            throw new TrellisException(ErrorCode.EMPTY_TABLE,
                    "the Delta table " + tablePath + " has no rows at version " + pinned.version()
                            + "; ingest data into it (`trellis ingest`) before training");
        }

        List<RuleResult> results = new ArrayList<>();
        if (windowed) {
            results.add(new RuleResult(RuleResult.DATA_WINDOW, spec.scoring().timeColumn(), rows + " rows",
                    DataWindows.describe(spec, overrides), true));
        }
        long minRows = spec.quality().minRows();
        results.add(new RuleResult(RuleResult.MIN_ROWS, null, rows + " rows", "≥ " + minRows + " rows", rows >= minRows));
        for (String c : spec.quality().requiredColumns()) {
            results.add(new RuleResult(RuleResult.REQUIRED_COLUMN, c, "present", "present", true));
        }
        long labelNulls = row.getLong(row.fieldIndex("null_" + referenced.indexOf(label)));
        results.add(new RuleResult(RuleResult.LABEL_NOT_NULL, label, ofRows(labelNulls, rows) + " null", "0 null", labelNulls == 0));
        long labelBad = row.getLong(row.fieldIndex("label_bad"));
        results.add(new RuleResult(RuleResult.LABEL_BINARY, label, ofRows(labelBad, rows) + " not in {0, 1}", "0 not in {0, 1}", labelBad == 0));
        String key = spec.source().keyColumn();
        if (key != null) {
            long keyNulls = row.getLong(row.fieldIndex("null_" + referenced.indexOf(key)));
            results.add(new RuleResult(RuleResult.KEY_NOT_NULL, key, ofRows(keyNulls, rows) + " null", "0 null", keyNulls == 0));
        }
        for (int i = 0; i < referenced.size(); i++) {
            String c = referenced.get(i);
            long nulls = row.getLong(row.fieldIndex("null_" + i));
            double rate = (double) nulls / rows;
            double allowed = spec.maxNullRate(c);
            results.add(new RuleResult(RuleResult.MAX_NULL_RATE, c,
                    percent(rate) + " null (" + nulls + " of " + rows + ")", "≤ " + percent(allowed), rate <= allowed));
        }
        r = 0;
        for (Map.Entry<String, ModelSpec.Range> e : ranges.entrySet()) {
            long out = row.getLong(row.fieldIndex("range_out_" + r));
            Object lo = row.get(row.fieldIndex("range_min_" + r));
            Object hi = row.get(row.fieldIndex("range_max_" + r));
            String seen = lo == null ? "no values" : "min " + number((Double) lo) + ", max " + number((Double) hi);
            results.add(new RuleResult(RuleResult.RANGE, e.getKey(),
                    ofRows(out, rows) + " out of range (" + seen + ")", describe(e.getValue()), out == 0));
            r++;
        }
        boolean passed = results.stream().allMatch(RuleResult::passed);
        long tableRows = windowed ? whole.count() : rows;
        return new SnapshotReport(tablePath, pinned.version(), tableRows, List.copyOf(results), passed);
    }

    /** Missing columns and wrong types, from the schema alone (no Spark job). */
    static void checkSchema(ModelSpec spec, Dataset<Row> data, String tablePath) {
        Map<String, DataType> types = new LinkedHashMap<>();
        for (StructField f : data.schema().fields()) {
            types.put(f.name(), f.dataType());
        }
        Set<String> needed = new LinkedHashSet<>(spec.referencedColumns());
        needed.addAll(new TreeSet<>(spec.quality().ranges().keySet()));
        List<String> missing = needed.stream().filter(c -> !types.containsKey(c)).toList();
        if (!missing.isEmpty()) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                    "the Delta table " + tablePath + " lacks column" + (missing.size() == 1 ? " " : "s ")
                            + String.join(", ", missing) + " that model spec '" + spec.name() + "' reads; available columns: "
                            + String.join(", ", types.keySet())
                            + ". Fix the column names in the spec or ingest data that has these columns.");
        }
        List<String> wrong = new ArrayList<>();
        for (String c : spec.features().numeric()) {
            if (!(types.get(c) instanceof NumericType)) {
                wrong.add("numeric feature '" + c + "' is " + types.get(c).simpleString() + ", must be a number type");
            }
        }
        for (String c : spec.features().categorical()) {
            DataType t = types.get(c);
            if (!(t instanceof StringType || isIntegral(t) || t instanceof BooleanType)) {
                wrong.add("categorical feature '" + c + "' is " + t.simpleString() + ", must be string, integer or boolean");
            }
        }
        DataType labelType = types.get(spec.label());
        if (!(labelType instanceof NumericType || labelType instanceof BooleanType)) {
            wrong.add("label '" + spec.label() + "' is " + labelType.simpleString() + ", must be numeric (0/1) or boolean");
        }
        for (String c : new TreeSet<>(spec.quality().ranges().keySet())) {
            if (!(types.get(c) instanceof NumericType)) {
                wrong.add("range-checked column '" + c + "' is " + types.get(c).simpleString() + ", must be a number type");
            }
        }
        if (!wrong.isEmpty()) {
            throw new TrellisException(ErrorCode.SCHEMA_MISMATCH,
                    "the Delta table " + tablePath + " has columns of the wrong type for model spec '" + spec.name() + "':\n  - "
                            + String.join("\n  - ", wrong)
                            + "\nFix the spec (move the column to the right feature list) or cast the column in the source data.");
        }
    }

    private static boolean isIntegral(DataType t) {
        return t instanceof ByteType || t instanceof ShortType || t instanceof IntegerType || t instanceof LongType;
    }

    private static String ofRows(long n, long rows) {
        return n + " of " + rows + " rows";
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
    }

    static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    private static String describe(ModelSpec.Range range) {
        if (range.min() != null && range.max() != null) {
            return "[" + number(range.min()) + ", " + number(range.max()) + "]";
        }
        return range.min() != null ? "≥ " + number(range.min()) : "≤ " + number(range.max());
    }

    /** {@code --spec <yaml> (--table <path> | --lake <root>) [--report <path>]}; exit 0 with passed=false when rules fail. */
    public static void main(String[] args) {
        JobMain.run("validate", args, Set.of("spec", "table", "lake", "overrides"), (spark, a) -> {
            ModelSpec spec = JobMain.loadSpec(spark, a.require("spec"));
            return run(spark, spec, JobMain.sourceTable(a, spec), JobMain.loadOverrides(spark, a));
        });
    }
}
