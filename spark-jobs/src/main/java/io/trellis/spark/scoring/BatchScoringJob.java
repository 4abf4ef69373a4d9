package io.trellis.spark.scoring;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobArguments;
import io.trellis.spark.JobMain;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Scores the most recent window of a source table version with one saved model and appends the scores to the
 * {@link PredictionsTable}. Features are prepared by {@link FeatureJob#inferenceFeatures}, exactly as for training.
 * One commit per run key; a retry returns the earlier commit with {@code committed == false}, describing the source
 * version that commit scored.
 *
 * <p>Arguments of {@link #main}: {@code --spec <yaml> (--table <path> | --lake <root>) [--source-version N]
 * [--time-column C --window-days D] --model <PipelineModel path> --model-version V --predictions <table path>
 * --run-key K [--scored-at <ISO-8601 instant>] [--report <path>]}. Without {@code --time-column} (or with
 * {@code --window-days} 0) the whole table is scored; {@code --scored-at} defaults to the time the run starts;
 * without {@code --source-version} the table's latest version when the job starts is read (what a worker in cluster
 * mode asks for, as local mode reads the latest version itself).
 */
public final class BatchScoringJob {
    private BatchScoringJob() {}

    public static ScoringReport run(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
            ScoringModel model, String predictionsTablePath, String runKey) {
        return run(spark, spec, source, window, model, predictionsTablePath, runKey, Instant.now());
    }

    /** As {@link #run(SparkSession, ModelSpec, DatasetVersion, ScoringWindow, ScoringModel, String, String)} with the run's {@code scored_at} given. */
    public static ScoringReport run(SparkSession spark, ModelSpec spec, DatasetVersion source, ScoringWindow window,
            ScoringModel model, String predictionsTablePath, String runKey, Instant scoredAt) {
        long start = System.nanoTime();
        OptionalLong earlier = PredictionsTable.committedVersion(spark, predictionsTablePath, runKey);
        DatasetVersion read = earlier.isPresent()
                ? PredictionsTable.committedSource(spark, predictionsTablePath, earlier.getAsLong(), runKey, source)
                : source;
        DeltaTables.requireExists(spark, read.tablePath());
        ScoringWindow.Selection selection = window.select(spark, read);
        boolean committed = earlier.isEmpty();
        long version;
        if (committed) {
            PipelineModel pipeline = PipelineModel.load(model.modelPath());
            Dataset<Row> scored = pipeline.transform(FeatureJob.inferenceFeatures(spec, selection.rows()));
            Dataset<Row> rows = PredictionsTable.rows(spec, scored, PredictionsTable.positiveProbability(), model,
                    new PredictionsTable.Run(runKey, scoredAt, read));
            version = PredictionsTable.append(spark, predictionsTablePath, rows, runKey);
        } else {
            version = earlier.getAsLong();
        }
        long rows = PredictionsTable.rowsWritten(spark, predictionsTablePath, version, runKey);
        return new ScoringReport(predictionsTablePath, version, rows, selection.from(), selection.to(), read.version(),
                (System.nanoTime() - start) / 1_000_000, committed);
    }

    public static void main(String[] args) {
        JobMain.run("batch-score", args, Set.of("spec", "table", "lake", "source-version", "time-column", "window-days",
                "model", "model-version", "predictions", "run-key", "scored-at"), (spark, a) -> {
            ModelSpec spec = JobMain.loadSpec(spark, a.require("spec"));
            return run(spark, spec,
                    sourceArgument(spark, a, spec),
                    windowArgument(a),
                    new ScoringModel(versionArgument(a, "model-version"), a.require("model")),
                    a.require("predictions"),
                    a.require("run-key"),
                    scoredAtArgument(a));
        });
    }

    /** The source table at {@code --source-version}, or at its latest version when that is not given. */
    static DatasetVersion sourceArgument(SparkSession spark, JobArguments a, ModelSpec spec) {
        String table = JobMain.sourceTable(a, spec);
        if (a.has("source-version")) {
            return new DatasetVersion(table, a.requireLong("source-version"));
        }
        DeltaTables.requireExists(spark, table);
        return new DatasetVersion(table, DeltaTables.latestVersion(spark, table));
    }

    static ScoringWindow windowArgument(JobArguments a) {
        if (!a.has("time-column")) {
            return ScoringWindow.wholeTable();
        }
        return ScoringWindow.lastDays(a.require("time-column"), (int) Math.min(Integer.MAX_VALUE, a.requireLong("window-days")));
    }

    static int versionArgument(JobArguments a, String name) {
        long v = a.requireLong(name);
        if (v < 1 || v > Integer.MAX_VALUE) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "--" + name + " must be a model version number from 1, got " + v);
        }
        return (int) v;
    }

    static Instant scoredAtArgument(JobArguments a) {
        if (!a.has("scored-at")) {
            return Instant.now();
        }
        String v = a.require("scored-at");
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST,
                    "--scored-at must be an ISO-8601 instant such as 2026-01-31T06:00:00Z, got '" + v + "'");
        }
    }
}
