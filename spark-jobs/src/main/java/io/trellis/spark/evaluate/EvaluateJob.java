package io.trellis.spark.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.JobMain;
import io.trellis.spark.features.FeatureTable;
import io.trellis.spark.train.TrainingPipeline;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.Metric;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Scores the holdout split of a feature table version with the candidate model and, if given, the champion,
 * on the same rows. Per model: AUC (one evaluator pass) and log loss, precision, recall, accuracy and F1 at the
 * spec's threshold (one aggregation pass) over the cached scores.
 */
public final class EvaluateJob {
    static final double EPSILON = 1e-15;
    private static final String P = "p_positive";

    private EvaluateJob() {}

    public static EvaluationReport run(SparkSession spark, ModelSpec spec, DatasetVersion features, String candidatePath, String championPath) {
        DeltaTables.requireExists(spark, features.tablePath());
        Dataset<Row> holdout = DeltaTables.read(spark, features)
                .where(col(FeatureTable.SPLIT).equalTo(FeatureTable.HOLDOUT))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            PipelineModel candidate = PipelineModel.load(candidatePath);
            Scores scores = score(candidate, holdout, spec.evaluation().threshold());
            if (scores.rows() == 0) {
                throw new TrellisException(ErrorCode.EMPTY_TABLE,
                        "the feature table " + features + " has no holdout rows; raise split.holdoutFraction or add data");
            }
            Map<String, Double> champion = null;
            String championError = null;
            if (championPath != null) {
                try {
                    champion = score(PipelineModel.load(championPath), holdout, spec.evaluation().threshold()).metrics();
                } catch (Exception e) {
                    championError = "champion model " + championPath + " cannot score the holdout of " + features + ": "
                            + e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
                }
            }
            return new EvaluationReport(scores.metrics(), champion, championError, scores.rows());
        } finally {
            holdout.unpersist();
        }
    }

    record Scores(Map<String, Double> metrics, long rows) {}

    static Scores score(PipelineModel model, Dataset<Row> holdout, double threshold) {
        Dataset<Row> scored = model.transform(holdout)
                .select(col(FeatureTable.LABEL), functions.vector_to_array(col(TrainingPipeline.PROBABILITY), "float64").getItem(1).as(P))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Column y = col(FeatureTable.LABEL);
            Column p = least(greatest(col(P), lit(EPSILON)), lit(1 - EPSILON));
            Column predicted = col(P).gt(threshold);
            Column positive = y.equalTo(1.0);
            Row r = scored.agg(
                    count(lit(1)),
                    sum(y.multiply(log(p)).plus(lit(1.0).minus(y).multiply(log(lit(1.0).minus(p)))).multiply(-1.0)),
                    sum(when(predicted.and(positive), 1L).otherwise(0L)),
                    sum(when(predicted.and(positive.unary_$bang()), 1L).otherwise(0L)),
                    sum(when(predicted.unary_$bang().and(positive), 1L).otherwise(0L)),
                    sum(when(predicted.unary_$bang().and(positive.unary_$bang()), 1L).otherwise(0L)))
                    .head();
            long n = r.getLong(0);
            if (n == 0) {
                return new Scores(Map.of(), 0);
            }
            double logLoss = r.getDouble(1) / n;
            long tp = r.getLong(2);
            long fp = r.getLong(3);
            long fn = r.getLong(4);
            long tn = r.getLong(5);
            double auc = new BinaryClassificationEvaluator()
                    .setLabelCol(FeatureTable.LABEL).setRawPredictionCol(P).setMetricName("areaUnderROC")
                    .evaluate(scored);
            double precision = tp + fp == 0 ? 0.0 : (double) tp / (tp + fp);
            double recall = tp + fn == 0 ? 0.0 : (double) tp / (tp + fn);
            Map<String, Double> m = new LinkedHashMap<>();
            m.put(Metric.AUC.key(), auc);
            m.put(Metric.LOG_LOSS.key(), logLoss);
            m.put(Metric.PRECISION.key(), precision);
            m.put(Metric.RECALL.key(), recall);
            m.put(Metric.ACCURACY.key(), (double) (tp + tn) / n);
            m.put(Metric.F1.key(), precision + recall == 0 ? 0.0 : 2 * precision * recall / (precision + recall));
            return new Scores(Map.copyOf(m), n);
        } finally {
            scored.unpersist();
        }
    }

    private static String firstLine(String m) {
        if (m == null) {
            return "";
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** {@code --spec <yaml> --features <path> --features-version N --candidate <model path> [--champion <model path>] [--report <path>]} */
    public static void main(String[] args) {
        JobMain.run("evaluate", args, Set.of("spec", "features", "features-version", "candidate", "champion"), (spark, a) -> run(spark,
                JobMain.loadSpec(spark, a.require("spec")),
                new DatasetVersion(a.require("features"), a.requireLong("features-version")),
                a.require("candidate"),
                a.get("champion", null)));
    }
}
