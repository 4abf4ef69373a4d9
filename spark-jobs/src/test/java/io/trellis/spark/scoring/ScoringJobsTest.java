package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.delta.tables.DeltaTable;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spark.train.TrainJob;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Batch scoring and shadow runs over the sample churn table, with two logistic models trained once for the class. */
class ScoringJobsTest {
    private static final ModelSpec SPEC = SampleModels.customerChurn();
    /** Heavily regularised: same features, visibly different scores. */
    private static final ModelSpec OTHER = ModelSpecLoader.parse(SampleModels.customerChurnYaml()
            .replace("regParam: 0.01", "regParam: 0.5").replace("maxIter: 50", "maxIter: 5"));
    private static final ScoringWindow LAST_2_DAYS = ScoringWindow.lastDays("event_date", 2);
    private static final Instant SCORED_AT = Instant.parse("2026-02-01T06:00:00Z");

    private static SparkSession spark;
    private static Path lake;
    private static DatasetVersion source;
    private static DatasetVersion features;
    private static String lrPath;
    private static String otherPath;

    @BeforeAll
    static void trainTwoModels() {
        spark = TestingSpark.session();
        lake = TestingSpark.newLake();
        source = TestingSampleData.churnTable();
        String featurePath = lake.resolve("features/customer-churn").toString();
        features = new DatasetVersion(featurePath, FeatureJob.run(spark, SPEC, source, featurePath, "scoring-test").version());
        lrPath = TrainJob.run(spark, SPEC, features, lake.resolve("models/lr").toString()).modelPath();
        otherPath = TrainJob.run(spark, OTHER, features, lake.resolve("models/other").toString()).modelPath();
    }

    private static String newPredictionsTable() {
        return TestingSpark.newLake().resolve("predictions/customer-churn").toString();
    }

    @Test
    void batchScoringAppendsTaggedScoresOncePerRunKey() {
        String predictions = newPredictionsTable();
        ScoringModel model = new ScoringModel(3, lrPath);

        ScoringReport first = BatchScoringJob.run(spark, SPEC, source, LAST_2_DAYS, model, predictions, "batch-1", SCORED_AT);
        // A retry describes what the first attempt wrote, even when its caller resolved another source version.
        DatasetVersion otherVersion = new DatasetVersion(source.tablePath(), source.version() - 1);
        ScoringReport retry = BatchScoringJob.run(spark, SPEC, otherVersion, LAST_2_DAYS, model, predictions, "batch-1");
        ScoringReport next = BatchScoringJob.run(spark, SPEC, source, LAST_2_DAYS, model, predictions, "batch-2");

        Dataset<Row> window = LAST_2_DAYS.select(spark, source).rows();
        long windowRows = window.count();
        assertThat(first.committed()).isTrue();
        assertThat(first.rows()).isEqualTo(windowRows);
        assertThat(first.windowTo()).isEqualTo(DeltaTables.read(spark, source).agg(max("event_date").cast("string")).head().getString(0));
        assertThat(first.windowFrom()).isNotNull().isLessThan(first.windowTo());
        assertThat(first.sourceVersion()).isEqualTo(source.version());
        assertThat(retry).usingRecursiveComparison().ignoringFields("millis")
                .isEqualTo(new ScoringReport(predictions, first.predictionsVersion(), windowRows, first.windowFrom(), first.windowTo(),
                        source.version(), 0, false));
        assertThat(next.committed()).isTrue();
        assertThat(next.predictionsVersion()).isEqualTo(first.predictionsVersion() + 1);
        DeltaTable history = DeltaTable.forPath(spark, predictions);
        assertThat(history.history().where(col("userMetadata").equalTo("batch-1")).count()).isEqualTo(1);
        assertThat(history.history().count()).isEqualTo(2);

        Dataset<Row> written = DeltaTables.read(spark, new DatasetVersion(predictions, first.predictionsVersion()));
        assertThat(written.schema().fieldNames()).containsExactly("customer_id", "score", "prediction", "model_name",
                "model_version", "run_key", "scored_at", "source_table", "source_version");
        assertThat(written.schema().apply("score").dataType()).isEqualTo(DataTypes.DoubleType);
        assertThat(written.schema().apply("prediction").dataType()).isEqualTo(DataTypes.IntegerType);
        assertThat(written.schema().apply("model_version").dataType()).isEqualTo(DataTypes.IntegerType);
        assertThat(written.schema().apply("scored_at").dataType()).isEqualTo(DataTypes.TimestampType);
        assertThat(written.schema().apply("source_version").dataType()).isEqualTo(DataTypes.LongType);
        Row tags = written.select("model_name", "model_version", "run_key", "scored_at", "source_table", "source_version").distinct().head();
        assertThat(written.select("model_name", "model_version", "run_key", "scored_at", "source_table", "source_version").distinct().count()).isEqualTo(1);
        assertThat(tags.getString(0)).isEqualTo("customer-churn");
        assertThat(tags.getInt(1)).isEqualTo(3);
        assertThat(tags.getString(2)).isEqualTo("batch-1");
        assertThat(tags.getTimestamp(3)).isEqualTo(Timestamp.from(SCORED_AT));
        assertThat(tags.getString(4)).isEqualTo(source.tablePath());
        assertThat(tags.getLong(5)).isEqualTo(source.version());
        assertThat(written.select("customer_id").exceptAll(window.select("customer_id")).count()).isZero();
        assertThat(written.where("(score >= 0.5) <> (prediction = 1) OR score < 0 OR score > 1").count()).isZero();
        assertThat(written.where("prediction = 1").count()).isPositive();

        // The same preparation as training: scoring the feature table's rows directly gives the same scores.
        Dataset<Row> direct = PipelineModel.load(lrPath).transform(DeltaTables.read(spark, features))
                .select(col("customer_id"), PredictionsTable.positiveProbability().as("direct"));
        Row diff = written.join(direct, "customer_id").agg(org.apache.spark.sql.functions.count("*"), max(abs(col("score").minus(col("direct"))))).head();
        assertThat(diff.getLong(0)).isEqualTo(windowRows);
        assertThat(diff.getDouble(1)).isLessThan(1e-12);
    }

    @Test
    void batchScoringWithoutAWindowScoresTheWholeTable() {
        ScoringReport report = BatchScoringJob.run(spark, SPEC, source, ScoringWindow.wholeTable(), new ScoringModel(1, lrPath),
                newPredictionsTable(), "batch-all");

        assertThat(report.rows()).isEqualTo(TestingSampleData.ROWS);
        assertThat(report.windowFrom()).isNull();
        assertThat(report.windowTo()).isNull();
    }

    @Test
    void shadowAgainstTheSameModelAgreesCompletely() {
        String predictions = newPredictionsTable();

        ShadowReport report = ShadowComparisonJob.run(spark, SPEC, source, LAST_2_DAYS,
                new ScoringModel(2, lrPath), new ScoringModel(1, lrPath), predictions, "shadow-same");

        assertThat(report.rows()).isEqualTo(LAST_2_DAYS.select(spark, source).rows().count());
        assertThat(report.agreementRate()).isEqualTo(1.0);
        assertThat(report.scorePsi()).isCloseTo(0.0, within(1e-12));
        assertThat(report.meanAbsScoreDiff()).isEqualTo(0.0);
        assertThat(report.championMeanScore()).isCloseTo(report.candidateMeanScore(), within(1e-12));
        assertThat(report.candidateVersion()).isEqualTo(2);
        assertThat(report.championVersion()).isEqualTo(1);
        assertThat(report.candidateMillis()).isNotNegative();
        assertThat(report.championMillis()).isNotNull().isNotNegative();
        assertThat(report.committed()).isTrue();
    }

    @Test
    void shadowAgainstADifferentChampionComparesTheSameRowsInOneCommit() {
        String predictions = newPredictionsTable();
        ScoringModel candidate = new ScoringModel(2, lrPath);
        ScoringModel champion = new ScoringModel(1, otherPath);

        ShadowReport report = ShadowComparisonJob.run(spark, SPEC, source, LAST_2_DAYS, candidate, champion, predictions, "shadow-1", SCORED_AT);
        ShadowReport retry = ShadowComparisonJob.run(spark, SPEC, source, LAST_2_DAYS, candidate, champion, predictions, "shadow-1");

        assertThat(report.committed()).isTrue();
        assertThat(report.agreementRate()).isLessThan(1.0).isGreaterThan(0.5);
        assertThat(report.scorePsi()).isPositive();
        assertThat(report.meanAbsScoreDiff()).isPositive();
        // Recomputed from the pinned source on a retry: equal up to the order Spark sums partial aggregates in.
        assertThat(retry).usingRecursiveComparison().ignoringFields("candidateMillis", "championMillis", "committed")
                .withComparatorForType((a, b) -> Math.abs(a - b) < 1e-12 ? 0 : Double.compare(a, b), Double.class)
                .isEqualTo(report);
        assertThat(retry.committed()).isFalse();
        assertThat(DeltaTable.forPath(spark, predictions).history().count()).isEqualTo(1);

        Dataset<Row> run = DeltaTables.read(spark, new DatasetVersion(predictions, report.predictionsVersion()))
                .where(col("run_key").equalTo("shadow-1"));
        Map<Integer, Long> perVersion = run.groupBy("model_version").count().collectAsList().stream()
                .collect(Collectors.toMap(r -> r.getInt(0), r -> r.getLong(1)));
        assertThat(perVersion).containsExactlyInAnyOrderEntriesOf(Map.of(2, report.rows(), 1, report.rows()));

        // The comparison recomputed here from the written rows, row by row and with the pure PSI function.
        Dataset<Row> cand = run.where("model_version = 2").select(col("customer_id"), col("score").as("c"), col("prediction").as("cp"));
        Dataset<Row> champ = run.where("model_version = 1").select(col("customer_id"), col("score").as("h"), col("prediction").as("hp"));
        Row joined = cand.join(champ, "customer_id").selectExpr("avg(CASE WHEN cp = hp THEN 1.0 ELSE 0.0 END)", "avg(abs(c - h))", "count(*)").head();
        assertThat(joined.getLong(2)).isEqualTo(report.rows());
        assertThat(joined.getDecimal(0).doubleValue()).isCloseTo(report.agreementRate(), within(1e-9));
        assertThat(joined.getDouble(1)).isCloseTo(report.meanAbsScoreDiff(), within(1e-12));
        double psi = PopulationStabilityIndex.ofScores(scores(champ, "h"), scores(cand, "c"));
        assertThat(report.scorePsi()).isCloseTo(psi, within(1e-12));
        assertThat(report.candidateMeanScore()).isCloseTo(mean(scores(cand, "c")), within(1e-9));
        assertThat(report.championMeanScore()).isCloseTo(mean(scores(champ, "h")), within(1e-9));
    }

    @Test
    void shadowWithoutAChampionWritesOnlyTheCandidate() {
        String predictions = newPredictionsTable();

        ShadowReport report = ShadowComparisonJob.run(spark, SPEC, source, LAST_2_DAYS, new ScoringModel(4, lrPath), null,
                predictions, "shadow-alone");

        assertThat(report.championVersion()).isNull();
        assertThat(report.agreementRate()).isNull();
        assertThat(report.scorePsi()).isNull();
        assertThat(report.meanAbsScoreDiff()).isNull();
        assertThat(report.championMeanScore()).isNull();
        assertThat(report.championMillis()).isNull();
        assertThat(report.candidateMeanScore()).isBetween(0.0, 1.0);
        Dataset<Row> written = DeltaTables.read(spark, new DatasetVersion(predictions, report.predictionsVersion()));
        assertThat(written.count()).isEqualTo(report.rows());
        assertThat(written.select("model_version").distinct().as(Encoders.INT()).collectAsList()).isEqualTo(List.of(4));
    }

    private static double[] scores(Dataset<Row> rows, String column) {
        return rows.select(column).as(Encoders.DOUBLE()).collectAsList().stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double mean(double[] values) {
        return java.util.Arrays.stream(values).average().orElseThrow();
    }
}
