package io.trellis.spark.train;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.evaluate.EvaluationReport;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.features.FeatureReport;
import io.trellis.spark.features.FeatureTable;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.Metric;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Train and evaluate share one feature table and the models they make. */
class TrainAndEvaluateTest {
    private static final ModelSpec LOGISTIC = SampleModels.customerChurn();
    private static final ModelSpec GBT = ModelSpecLoader.parse(SampleModels.customerChurnYaml().replaceAll(
            "(?s)algorithm:.*?\nsplit:", "algorithm:\n  type: gradient_boosted_trees\n  hyperparameters: {maxIter: 10, maxDepth: 3}\nsplit:"));

    private static SparkSession spark;
    private static Path lake;
    private static DatasetVersion features;
    private static FeatureReport featureReport;
    private static TrainReport logistic;
    private static TrainReport gbt;

    @BeforeAll
    static void trainBoth() {
        spark = TestingSpark.session();
        lake = TestingSpark.newLake();
        String path = lake.resolve("features/customer-churn").toString();
        featureReport = FeatureJob.run(spark, LOGISTIC, TestingSampleData.churnTable(), path, "train-test");
        features = new DatasetVersion(path, featureReport.version());
        logistic = TrainJob.run(spark, LOGISTIC, features, lake.resolve("models/lr").toString());
        gbt = TrainJob.run(spark, GBT, features, lake.resolve("models/gbt").toString());
    }

    @Test
    void trainReportsTheEffectiveHyperparameters() {
        assertThat(logistic.algorithm()).isEqualTo("logistic_regression");
        assertThat(logistic.params()).containsEntry("maxIter", "50").containsEntry("regParam", "0.01")
                .containsEntry("tol", "1.0E-6").containsEntry("seed", "42");
        assertThat(logistic.trainRows()).isEqualTo(featureReport.trainRows());
        assertThat(gbt.algorithm()).isEqualTo("gradient_boosted_trees");
        assertThat(gbt.params()).containsEntry("maxIter", "10").containsEntry("maxDepth", "3").containsEntry("maxBins", "32");
    }

    @Test
    void bothAlgorithmsLearnTheSignal() {
        EvaluationReport lr = EvaluateJob.run(spark, LOGISTIC, features, logistic.modelPath(), null);
        EvaluationReport trees = EvaluateJob.run(spark, GBT, features, gbt.modelPath(), null);

        assertThat(lr.holdoutRows()).isEqualTo(featureReport.holdoutRows());
        assertThat(lr.candidate()).containsOnlyKeys(List.of(Metric.values()).stream().map(Metric::key).toList());
        assertThat(lr.candidate().get("auc")).isBetween(0.7, 0.95);
        assertThat(lr.candidate().get("log_loss")).isBetween(0.2, 0.6);
        assertThat(lr.candidate().get("accuracy")).isGreaterThan(0.75);
        assertThat(trees.candidate().get("auc")).isGreaterThan(0.7);
        assertThat(lr.champion()).isNull();
        assertThat(lr.championError()).isNull();
    }

    @Test
    void theChampionIsScoredOnTheSameHoldout() {
        EvaluationReport report = EvaluateJob.run(spark, LOGISTIC, features, logistic.modelPath(), gbt.modelPath());
        EvaluationReport gbtAlone = EvaluateJob.run(spark, GBT, features, gbt.modelPath(), null);

        assertThat(report.championError()).isNull();
        assertThat(report.champion()).containsOnlyKeys(gbtAlone.candidate().keySet());
        // The same rows give the same metrics, up to the order Spark sums them in.
        gbtAlone.candidate().forEach((metric, value) ->
                assertThat(report.champion().get(metric)).as(metric).isCloseTo(value, org.assertj.core.api.Assertions.within(1e-9)));
        assertThat(report.holdoutRows()).isEqualTo(gbtAlone.holdoutRows());
    }

    @Test
    void aChampionThatCannotScoreTheseRowsIsReportedNotFatal() throws Exception {
        Dataset<Row> other = spark.sql("SELECT CAST(id AS DOUBLE) AS other_feature, CAST(id % 2 AS DOUBLE) AS label FROM range(20)");
        ModelSpec otherSpec = ModelSpecLoader.parse("""
                name: other
                source: {table: t}
                label: label
                features: {numeric: [other_feature]}
                algorithm: {type: logistic_regression, hyperparameters: {maxIter: 5}}
                """);
        String otherPath = lake.resolve("models/other").toString();
        TrainingPipeline.of(otherSpec).fit(other).write().overwrite().save(otherPath);

        EvaluationReport report = EvaluateJob.run(spark, LOGISTIC, features, logistic.modelPath(), otherPath);

        assertThat(report.champion()).isNull();
        assertThat(report.championError()).contains("cannot score the holdout").contains("other_feature");
        assertThat(report.candidate().get("auc")).isGreaterThan(0.7);
    }

    @Test
    void aSavedPipelineModelScoresLikeTheFittedOne() throws Exception {
        Dataset<Row> data = DeltaTables.read(spark, features);
        Dataset<Row> train = data.where(col(FeatureTable.SPLIT).equalTo(FeatureTable.TRAIN));
        Dataset<Row> holdout = data.where(col(FeatureTable.SPLIT).equalTo(FeatureTable.HOLDOUT)).orderBy("customer_id").limit(200);
        PipelineModel fitted = TrainingPipeline.of(LOGISTIC).fit(train);
        String path = lake.resolve("models/round-trip").toString();
        fitted.write().overwrite().save(path);
        PipelineModel loaded = PipelineModel.load(path);

        List<Row> before = fitted.transform(holdout).select("customer_id", "probability", "prediction").collectAsList();
        List<Row> after = loaded.transform(holdout).select("customer_id", "probability", "prediction").collectAsList();

        assertThat(after).hasSize(200).isEqualTo(before);
        List<Row> saved = PipelineModel.load(logistic.modelPath()).transform(holdout).select("customer_id", "probability", "prediction").collectAsList();
        assertThat(saved).isEqualTo(before);
    }
}
