package io.trellis.spark.monitor;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobArguments;
import io.trellis.spark.JobMain;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.util.Set;

/**
 * Monitoring's two Spark steps as one application entry point, for spark-submit in cluster mode (local mode calls
 * {@link DriftJob} on the worker's session). Its report's {@code result} is the {@link ReferenceProfile}, or a
 * {@link Current}: the source table version counted and the {@link WindowProfile}, as JSON.
 *
 * <p>Arguments: {@code --spec <spec> --step reference --table <snapshot table> --source-version N --model <model path>}
 * bins and counts a version's training snapshot; {@code --spec <spec> --step current (--table <path> | --lake <root>)
 * [--source-version N] --reference <profile JSON> [--model <model path>] [--predictions <table> --model-version V
 * [--run-key K --run-scored-at T --run-source-table S --run-source-version N]]} counts the spec's scoring window of the
 * source table (its latest version unless given) against the reference, with the stored scores of the run given (or
 * the latest one found in the table), re-scoring with {@code --model} when nothing is stored.
 */
public final class DriftMain {
    private DriftMain() {}

    /** What {@code --step current} reports: the source table and the version of it whose window was counted, and the counts. */
    public record Current(String sourceTable, long sourceVersion, WindowProfile profile) {}

    public static void main(String[] args) {
        JobMain.run("drift", args, Set.of("spec", "step", "table", "lake", "source-version", "model", "reference", "predictions",
                "model-version", "run-key", "run-scored-at", "run-source-table", "run-source-version"), DriftMain::run);
    }

    static Object run(org.apache.spark.sql.SparkSession spark, JobArguments a) {
        ModelSpec spec = JobMain.loadSpec(spark, a.require("spec"));
        String step = a.require("step");
        switch (step) {
            case "reference":
                return DriftJob.reference(spark, spec, new DatasetVersion(a.require("table"), a.requireLong("source-version")),
                        a.require("model"));
            case "current":
                String table = JobMain.sourceTable(a, spec);
                DeltaTables.requireExists(spark, table);
                DatasetVersion source = new DatasetVersion(table,
                        a.has("source-version") ? a.requireLong("source-version") : DeltaTables.latestVersion(spark, table));
                ReferenceProfile reference = JobMain.loadRecord(spark, a.require("reference"), ReferenceProfile.class,
                        "reference profile", "--reference");
                DriftJob.Predictions predictions = null;
                if (a.has("predictions")) {
                    long version = a.requireLong("model-version");
                    if (version < 1 || version > Integer.MAX_VALUE) {
                        throw new TrellisException(ErrorCode.INVALID_REQUEST, "--model-version must be a model version number from 1, got " + version);
                    }
                    DriftJob.StoredRun run = !a.has("run-key") ? null : new DriftJob.StoredRun(a.require("run-key"),
                            a.require("run-scored-at"), a.require("run-source-table"), a.requireLong("run-source-version"));
                    predictions = new DriftJob.Predictions(a.require("predictions"), (int) version, run);
                }
                String model = a.has("model") ? a.require("model") : null;
                return new Current(table, source.version(), DriftJob.current(spark, spec, source,
                        new ScoringWindow(spec.scoring().timeColumn(), spec.scoring().windowDays()), reference, predictions,
                        model == null ? null : () -> model));
            default:
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "--step must be 'reference' or 'current', got '" + step + "'");
        }
    }
}
