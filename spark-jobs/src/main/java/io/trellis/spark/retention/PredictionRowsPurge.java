package io.trellis.spark.retention;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.delta.tables.DeltaTable;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.SessionConfs;
import io.trellis.spark.scoring.PredictionsTable;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Deletes old prediction rows of model versions nothing pins. Prediction tables ({@link PredictionsTable}) are
 * append-only, so a VACUUM alone frees nothing there: the rows of an unpinned model version scored before the compliance
 * cutoff are removed with one Delta {@code DELETE} per table (one commit whose {@code userMetadata} names the retention
 * run), and the files it rewrote are freed by a VACUUM once its tombstones are older than the vacuum horizon. Earlier
 * table versions keep the rows (time travel) as long as a vacuum keeps them; rows of other model versions, and rows
 * scored on or after the cutoff, are never touched.
 *
 * <p>Retry-safe: a commit that already carries the run's marker is found and reported instead of deleting again.
 */
public final class PredictionRowsPurge {
    /** The userMetadata prefix of a retention DELETE commit; the retention run follows it. */
    public static final String COMMIT_PREFIX = "trellis-retention:";
    private static final String USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata";

    private PredictionRowsPurge() {}

    /** One model version whose rows may go: its model and version number. */
    public record ModelVersionKey(String modelName, int version) implements Comparable<ModelVersionKey> {
        public ModelVersionKey {
            Objects.requireNonNull(modelName, "modelName");
        }

        @Override
        public int compareTo(ModelVersionKey o) {
            int byName = modelName.compareTo(o.modelName);
            return byName != 0 ? byName : Integer.compare(version, o.version);
        }

        @Override
        public String toString() {
            return modelName + " v" + version;
        }
    }

    /**
     * What a purge of one table would delete (plan) or deleted: rows per model version, and the commit that deleted them
     * (empty for a plan, or when there was nothing to delete).
     */
    public record Outcome(String tablePath, Instant scoredBefore, Map<ModelVersionKey, Long> rows, OptionalLong commitVersion) {
        public long totalRows() {
            return rows.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The rows of {@code versions} scored before {@code scoredBefore} in the table's latest version, per model version. */
    public static Outcome plan(SparkSession spark, String tablePath, Set<ModelVersionKey> versions, Instant scoredBefore) {
        requireColumns(spark, tablePath);
        Map<ModelVersionKey, Long> rows = new TreeMap<>();
        if (!versions.isEmpty()) {
            long latest = DeltaTables.latestVersion(spark, tablePath);
            List<Row> counts = DeltaTables.read(spark, new DatasetVersion(tablePath, latest)).where(condition(versions, scoredBefore))
                    .groupBy(PredictionsTable.MODEL_NAME, PredictionsTable.MODEL_VERSION).count().collectAsList();
            for (Row r : counts) {
                rows.put(new ModelVersionKey(r.getString(0), r.getInt(1)), r.getLong(2));
            }
        }
        return new Outcome(tablePath, scoredBefore, rows, OptionalLong.empty());
    }

    /**
     * Deletes the rows {@link #plan} finds, in one commit carrying {@code trellis-retention:<retentionRun>}; when such a
     * commit exists already (a retried attempt), reports that commit's deleted-row count per model version instead.
     */
    public static Outcome delete(SparkSession spark, String tablePath, Set<ModelVersionKey> versions, Instant scoredBefore,
                                 String retentionRun) {
        String marker = COMMIT_PREFIX + Objects.requireNonNull(retentionRun, "retentionRun");
        OptionalLong earlier = DeltaTables.versionWithUserMetadata(spark, tablePath, marker);
        if (earlier.isPresent()) {
            // The rows are gone from the latest version; count them in the version before the commit that deleted them.
            Outcome before = planAt(spark, tablePath, earlier.getAsLong() - 1, versions, scoredBefore);
            return new Outcome(tablePath, scoredBefore, before.rows(), earlier);
        }
        Outcome plan = plan(spark, tablePath, versions, scoredBefore);
        if (plan.rows().isEmpty()) {
            return plan;
        }
        // Only the versions that have rows: the commit's predicate names exactly what it deletes.
        SessionConfs.around(spark, Map.of(USER_METADATA, marker), () -> {
            DeltaTable.forPath(spark, tablePath).delete(condition(plan.rows().keySet(), scoredBefore));
            return null;
        });
        OptionalLong commit = DeltaTables.versionWithUserMetadata(spark, tablePath, marker);
        if (commit.isEmpty()) {
            throw new IllegalStateException("the retention DELETE on " + tablePath + " finished but no commit carries " + marker);
        }
        return new Outcome(tablePath, scoredBefore, plan.rows(), commit);
    }

    private static Outcome planAt(SparkSession spark, String tablePath, long version, Set<ModelVersionKey> versions, Instant scoredBefore) {
        Map<ModelVersionKey, Long> rows = new TreeMap<>();
        if (version >= 0 && !versions.isEmpty()) {
            for (Row r : DeltaTables.read(spark, new DatasetVersion(tablePath, version)).where(condition(versions, scoredBefore))
                    .groupBy(PredictionsTable.MODEL_NAME, PredictionsTable.MODEL_VERSION).count().collectAsList()) {
                rows.put(new ModelVersionKey(r.getString(0), r.getInt(1)), r.getLong(2));
            }
        }
        return new Outcome(tablePath, scoredBefore, rows, OptionalLong.empty());
    }

    /** {@code (model_name = m1 and model_version in (...)) or ...} and {@code scored_at < scoredBefore}. */
    static Column condition(Set<ModelVersionKey> versions, Instant scoredBefore) {
        Map<String, List<Integer>> byModel = new TreeMap<>();
        for (ModelVersionKey k : versions) {
            byModel.computeIfAbsent(k.modelName(), n -> new java.util.ArrayList<>()).add(k.version());
        }
        Column any = lit(false);
        for (Map.Entry<String, List<Integer>> m : byModel.entrySet()) {
            any = any.or(col(PredictionsTable.MODEL_NAME).equalTo(lit(m.getKey()))
                    .and(col(PredictionsTable.MODEL_VERSION).isin(m.getValue().toArray())));
        }
        return any.and(col(PredictionsTable.SCORED_AT).lt(lit(Timestamp.from(scoredBefore))));
    }

    private static void requireColumns(SparkSession spark, String tablePath) {
        List<String> columns = Arrays.asList(spark.read().format("delta").load(tablePath).columns());
        for (String required : List.of(PredictionsTable.MODEL_NAME, PredictionsTable.MODEL_VERSION, PredictionsTable.SCORED_AT)) {
            if (!columns.contains(required)) {
                throw new IllegalStateException("not a predictions table: no column " + required + " (columns: " + columns
                        + "); its rows are not deleted");
            }
        }
    }
}
