package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.train.TrainingPipeline;
import io.trellis.spec.ModelSpec;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The append-only Delta table of scores that batch scoring and shadow runs write: one row per scored source row
 * and model, {@code <key column, if the spec has one>, score DOUBLE (positive-class probability), prediction INT,
 * model_name, model_version INT, run_key, scored_at TIMESTAMP, source_table, source_version BIGINT}.
 *
 * <p>A run's rows land in one commit carrying {@code txnAppId = trellis-scoring-<runKey>}, {@code txnVersion = 1}
 * and {@code userMetadata = <runKey>}, so a retried run finds its commit instead of appending twice. Run keys must
 * therefore be unique per run across batch scoring and shadow runs writing to the same table.
 */
public final class PredictionsTable {
    public static final String SCORE = "score";
    public static final String PREDICTION = "prediction";
    public static final String MODEL_NAME = "model_name";
    public static final String MODEL_VERSION = "model_version";
    public static final String RUN_KEY = "run_key";
    public static final String SCORED_AT = "scored_at";
    public static final String SOURCE_TABLE = "source_table";
    public static final String SOURCE_VERSION = "source_version";
    public static final String TXN_APP_PREFIX = "trellis-scoring-";

    private PredictionsTable() {}

    /** What every row of one run carries besides its scores. */
    record Run(String runKey, Instant scoredAt, DatasetVersion source) {}

    /** The positive-class probability of a fitted pipeline's output, as DOUBLE. */
    static Column positiveProbability() {
        return functions.vector_to_array(col(TrainingPipeline.PROBABILITY), "float64").getItem(1);
    }

    /** 1 when {@code score >= threshold}, else 0 (INT). */
    static Column predictionAt(Column score, double threshold) {
        return when(score.geq(threshold), 1).otherwise(0).cast("int");
    }

    /** The predictions rows of one model over {@code scored} (which holds the key, if any, and {@code score}). */
    static Dataset<Row> rows(ModelSpec spec, Dataset<Row> scored, Column score, ScoringModel model, Run run) {
        List<Column> cols = new ArrayList<>();
        String key = spec.source().keyColumn();
        if (key != null) {
            cols.add(col(key));
        }
        cols.add(score.cast("double").as(SCORE));
        cols.add(predictionAt(score, spec.evaluation().threshold()).as(PREDICTION));
        cols.add(lit(spec.name()).as(MODEL_NAME));
        cols.add(lit(model.version()).cast("int").as(MODEL_VERSION));
        cols.add(lit(run.runKey()).as(RUN_KEY));
        cols.add(lit(Timestamp.from(run.scoredAt())).as(SCORED_AT));
        cols.add(lit(run.source().tablePath()).as(SOURCE_TABLE));
        cols.add(lit(run.source().version()).cast("bigint").as(SOURCE_VERSION));
        return scored.select(cols.toArray(Column[]::new));
    }

    /** The version of the commit a run made, if it made one. */
    static OptionalLong committedVersion(SparkSession spark, String path, String runKey) {
        return DeltaTables.versionWithUserMetadata(spark, path, runKey);
    }

    /**
     * The source version an earlier commit of a run scored, so that a retry reports what was written even if the
     * caller resolved a newer source version this time; {@code requested} when the commit holds no rows.
     */
    static DatasetVersion committedSource(SparkSession spark, String path, long version, String runKey, DatasetVersion requested) {
        List<Row> first = DeltaTables.read(spark, new DatasetVersion(path, version))
                .where(col(RUN_KEY).equalTo(runKey)).select(SOURCE_TABLE, SOURCE_VERSION).limit(1).collectAsList();
        return first.isEmpty() ? requested : new DatasetVersion(first.get(0).getString(0), first.get(0).getLong(1));
    }

    /** Appends a run's rows in one idempotent commit and returns its version. */
    static long append(SparkSession spark, String path, Dataset<Row> rows, String runKey) {
        rows.write().format("delta").mode("append")
                .option("txnAppId", TXN_APP_PREFIX + runKey)
                .option("txnVersion", 1L)
                .option("userMetadata", runKey)
                .save(path);
        return committedVersion(spark, path, runKey).orElseThrow(() ->
                new IllegalStateException("predictions write for run " + runKey + " to " + path
                        + " finished but no commit carries the run key"));
    }

    /** The rows a run's commit added: from its operation metrics, else by counting the run's rows at that version. */
    static long rowsWritten(SparkSession spark, String path, long version, String runKey) {
        String n = DeltaTables.operationMetrics(spark, path, version).get("numOutputRows");
        if (n != null) {
            return Long.parseLong(n);
        }
        return DeltaTables.read(spark, new DatasetVersion(path, version)).where(col(RUN_KEY).equalTo(runKey)).count();
    }
}
