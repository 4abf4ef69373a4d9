package io.trellis.spark.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.monitor.DriftComparison.FeatureDrift;
import io.trellis.spark.monitor.DriftComparison.Severity;
import io.trellis.spark.sample.SampleDataJob;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spark.scoring.BatchScoringJob;
import io.trellis.spark.scoring.ScoringModel;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spark.train.TrainJob;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.DoubleStream;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DriftJobTest {
    private static final StructType SCHEMA = new StructType()
            .add("x", DataTypes.DoubleType).add("n", DataTypes.IntegerType).add("c", DataTypes.StringType).add("y", DataTypes.DoubleType);
    private static final ModelSpec SMALL = ModelSpecLoader.parse("""
            name: small
            source: {table: raw/small}
            label: y
            features: {numeric: [x, n], categorical: [c]}
            algorithm: {type: logistic_regression}
            """);
    private static SparkSession spark;
    private static ReferenceProfile reference;
    private static List<Row> referenceRows;

    @BeforeAll
    static void referenceTable() {
        spark = TestingSpark.session();
        // x: 1,000 distinct values spread evenly over [0, 1000); n: ten values 0..9, a hundred each; c: half a, half b.
        referenceRows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            referenceRows.add(RowFactory.create(i + 0.5, i % 10, i % 2 == 0 ? "a" : "b", (double) (i % 2)));
        }
        reference = DriftJob.reference(spark, SMALL, write(referenceRows), null);
    }

    private static DatasetVersion write(List<Row> rows) {
        String path = TestingSpark.newLake().resolve("t").toString();
        spark.createDataFrame(rows, SCHEMA).write().format("delta").save(path);
        return new DatasetVersion(path, 0);
    }

    private static DriftComparison compare(DatasetVersion current) {
        WindowProfile profile = DriftJob.current(spark, SMALL, current, ScoringWindow.wholeTable(), reference, null);
        return DriftComparison.of(reference, profile, 0.1, 0.2);
    }

    private static FeatureDrift feature(DriftComparison c, String name) {
        return c.features().stream().filter(f -> f.feature().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void psiAndKsOfAShiftedWindowMatchHandComputedValues() {
        // Current: x squeezed into the lower half (2.5, 7.5, ... 497.5, ten rows each: clear of the reference deciles
        // near 100, 200, ... even with the quantile sketch's one-rank error); n only 0..4 (each value twice as
        // often); c 80% a, 10% b, 10% z (unseen).
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            rows.add(RowFactory.create((i % 100) * 5 + 2.5, i % 5, i % 10 < 8 ? "a" : i % 10 == 8 ? "b" : "z", 0.0));
        }
        DriftComparison c = compare(write(rows));

        // Categorical bins a, b, other/unseen: reference shares 0.5, 0.5, 0 (1e-4); current 0.8, 0.1, 0.1.
        double categoricalPsi = (0.8 - 0.5) * Math.log(0.8 / 0.5) + (0.1 - 0.5) * Math.log(0.1 / 0.5)
                + (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
        FeatureDrift cat = feature(c, "c");
        assertThat(cat.psi()).isCloseTo(categoricalPsi, within(1e-9));
        assertThat(cat.labels()).containsExactly("a", "b", "other / unseen");
        assertThat(cat.currentCounts()).containsExactly(800, 100, 100);
        assertThat(cat.severity()).isEqualTo(Severity.SIGNIFICANT);

        // x on the reference deciles (edges near 100, 200, ... 900): the current window fills the lower five
        // deciles with 0.2 each and leaves the upper five empty (1e-4).
        double numericPsi = 5 * (0.2 - 0.1) * Math.log(0.2 / 0.1) + 5 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1);
        FeatureDrift x = feature(c, "x");
        assertThat(x.psi()).isCloseTo(numericPsi, within(0.05));
        // KS on percentile bins: within one percentile bin of the exact statistic on the raw values (0.5 here).
        double exactX = DriftStatisticsTest.exactKs(column(referenceRows, 0), column(rows, 0));
        assertThat(exactX).isCloseTo(0.5, within(0.01));
        assertThat(x.ks()).isCloseTo(exactX, within(0.012));

        // n has ten distinct values, each its own bin, so KS is exact: reference F(4) = 0.5, current F(4) = 1.
        FeatureDrift n = feature(c, "n");
        assertThat(n.ks()).isCloseTo(DriftStatisticsTest.exactKs(column(referenceRows, 1), column(rows, 1)), within(1e-12));
        assertThat(n.ks()).isCloseTo(0.5, within(1e-12));
        // Deciles of n (smallest value whose CDF reaches 0.1, 0.2, ... 0.9) are 0, 1, ... 8, so its decile bins are
        // (-inf, 0) [empty on both sides: no term], [0, 1) ... [7, 8) and [8, inf) holding 8 and 9.
        // Reference shares: 0.1 x 8, 0.2; current: 0.2 for 0..4, then 0 (1e-4) for 5, 6, 7 and for [8, inf).
        double nPsi = 5 * (0.2 - 0.1) * Math.log(0.2 / 0.1) + 3 * (1e-4 - 0.1) * Math.log(1e-4 / 0.1)
                + (1e-4 - 0.2) * Math.log(1e-4 / 0.2);
        assertThat(n.labels()).containsExactly("< 0", "[0, 1)", "[1, 2)", "[2, 3)", "[3, 4)", "[4, 5)", "[5, 6)", "[6, 7)",
                "[7, 8)", "[8, ∞)");
        assertThat(n.psi()).isCloseTo(nPsi, within(1e-9));
        assertThat(c.features()).allMatch(f -> f.severity() == Severity.SIGNIFICANT);
    }

    @Test
    void theSameDistributionDoesNotDrift() {
        DriftComparison c = compare(write(referenceRows));
        assertThat(c.features()).allSatisfy(f -> {
            assertThat(f.psi()).isCloseTo(0.0, within(1e-9));
            assertThat(f.severity()).isEqualTo(Severity.NONE);
        });
        assertThat(feature(c, "x").ks()).isCloseTo(0.0, within(1e-12));
    }

    @Test
    void badInputBecomesFindingsNotFailures() {
        // x all null, c missing altogether.
        StructType noC = new StructType().add("x", DataTypes.DoubleType).add("n", DataTypes.IntegerType).add("y", DataTypes.DoubleType);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            rows.add(RowFactory.create(null, i % 10, 1.0));
        }
        String path = TestingSpark.newLake().resolve("t").toString();
        spark.createDataFrame(rows, noC).write().format("delta").save(path);
        DriftComparison c = compare(new DatasetVersion(path, 0));
        assertThat(c.currentRows()).isEqualTo(50);
        assertThat(feature(c, "x").severity()).isEqualTo(Severity.DATA_PROBLEM);
        assertThat(feature(c, "x").finding()).isEqualTo("all 50 values in the window are null");
        assertThat(feature(c, "x").currentNullRate()).isEqualTo(1.0);
        assertThat(feature(c, "c").severity()).isEqualTo(Severity.DATA_PROBLEM);
        assertThat(feature(c, "c").finding()).isEqualTo("missing from the current data");
        assertThat(c.findings()).anyMatch(f -> f.startsWith("feature 'c' is missing from"));
        assertThat(feature(c, "n").severity()).isEqualTo(Severity.NONE);
        assertThat(c.features().get(0).severity()).isEqualTo(Severity.DATA_PROBLEM);

        // A table with no rows at all.
        String emptyPath = TestingSpark.newLake().resolve("t").toString();
        spark.createDataFrame(List.of(), SCHEMA).write().format("delta").save(emptyPath);
        WindowProfile empty = DriftJob.current(spark, SMALL, new DatasetVersion(emptyPath, 0),
                ScoringWindow.wholeTable(), reference, null);
        assertThat(empty.rows()).isZero();
        assertThat(empty.findings()).singleElement().asString().contains("has no rows: nothing to compare");
        DriftComparison none = DriftComparison.of(reference, empty, 0.1, 0.2);
        assertThat(none.features()).allMatch(f -> f.severity() == Severity.NONE && f.psi() == null);
    }

    @Test
    void sampleDataDriftIsDetectedAndScoresMatchSparksAuc() {
        ModelSpec spec = SampleModels.customerChurn();
        String table = TestingSpark.newLake().resolve("raw/customer_churn").toString();
        // 4 daily batches; the last one drifts. The reference is the snapshot after the first three.
        SampleDataJob.run(spark, SampleDataOptions.defaults(table).withRows(4000).withDays(4).withSeed(5).withDrift(3, 1.5));
        DatasetVersion snapshot = new DatasetVersion(table, 2);
        String features = TestingSpark.newLake().resolve("features").toString();
        DatasetVersion featureVersion = new DatasetVersion(features, FeatureJob.run(spark, spec, snapshot, features, "drift-test").version());
        String model = TrainJob.run(spark, spec, featureVersion, TestingSpark.newLake().resolve("model").toString()).modelPath();

        ReferenceProfile ref = DriftJob.reference(spark, spec, snapshot, model);
        assertThat(ref.profile().rows()).isEqualTo(3000);
        assertThat(DriftStatistics.total(ref.profile().scores())).isEqualTo(3000);

        DatasetVersion latest = new DatasetVersion(table, DeltaTables.latestVersion(spark, table));
        WindowProfile drifted = DriftJob.current(spark, spec, latest, ScoringWindow.lastDays("event_date", 1), ref, model);
        DriftComparison c = DriftComparison.of(ref, drifted, 0.1, 0.2);
        assertThat(c.currentRows()).isEqualTo(1000);
        assertThat(c.features().stream().filter(f -> f.severity() == Severity.SIGNIFICANT).map(FeatureDrift::feature))
                .contains("monthly_charges", "support_calls_90d", "data_usage_gb");
        assertThat(c.predictionPsi()).isNotNull();

        // The binned AUC against Spark's own evaluator on the same rows and model.
        Dataset<Row> window = ScoringWindow.lastDays("event_date", 1).select(spark, latest).rows();
        Dataset<Row> scored = PipelineModel.load(model).transform(FeatureJob.features(spec, window));
        double sparkAuc = new BinaryClassificationEvaluator().setLabelCol("label").setRawPredictionCol("probability").evaluate(scored);
        assertThat(c.currentAuc()).isCloseTo(sparkAuc, within(0.002));
        assertThat(c.labelledRows()).isEqualTo(1000);

        // A window of the same distribution as the reference: nothing significant.
        WindowProfile stable = DriftJob.current(spark, spec, new DatasetVersion(table, 2), ScoringWindow.lastDays("event_date", 1), ref, model);
        DriftComparison s = DriftComparison.of(ref, stable, 0.1, 0.2);
        assertThat(s.features()).noneMatch(f -> f.severity() == Severity.SIGNIFICANT || f.severity() == Severity.DATA_PROBLEM);
        assertThat(s.predictionSeverity()).isEqualTo(Severity.NONE);

        // Prediction drift read from the predictions table batch scoring writes, filtered to the live version (v3).
        ScoringWindow lastDay = ScoringWindow.lastDays("event_date", 1);
        String predictions = TestingSpark.newLake().resolve("predictions").toString();
        DriftJob.Predictions live = new DriftJob.Predictions(predictions, 3);
        WindowProfile noTable = DriftJob.current(spark, spec, latest, lastDay, ref, live, () -> model);
        assertThat(noTable.findings()).anyMatch(f -> f.startsWith("no predictions table at " + predictions));
        assertThat(noTable.scoresFrom()).startsWith("the live model, re-scoring the window");
        assertThat(noTable.scores()).containsExactly(drifted.scores());

        BatchScoringJob.run(spark, spec, latest, lastDay, new ScoringModel(2, model), predictions, "run-v2",
                Instant.parse("2025-01-05T06:00:00Z"));
        WindowProfile otherVersion = DriftJob.current(spark, spec, latest, lastDay, ref, live, null);
        assertThat(otherVersion.findings()).anyMatch(f -> f.startsWith("the predictions table " + predictions + " holds no scores of v3"));
        assertThat(otherVersion.scored()).as("no fallback model given: no prediction drift").isFalse();
        assertThat(DriftComparison.of(ref, otherVersion, 0.1, 0.2).predictionPsi()).isNull();

        // v3's latest run scored an older source version (the clean day): read, with a finding that it is stale.
        BatchScoringJob.run(spark, spec, new DatasetVersion(table, 2), lastDay, new ScoringModel(3, model), predictions, "run-v3-old",
                Instant.parse("2025-01-05T07:00:00Z"));
        WindowProfile stale = DriftJob.current(spark, spec, latest, lastDay, ref, live, () -> model);
        assertThat(stale.scoresFrom()).contains("run run-v3-old of v3").contains("@ Delta v2");
        assertThat(stale.findings()).anyMatch(f -> f.contains("older than the v3 monitored here"));
        assertThat(stale.scores()).containsExactly(stable.scores());
        assertThat(stale.rows()).as("the window's features still come from the latest source version").isEqualTo(1000);
        assertThat(DriftComparison.of(ref, stale, 0.1, 0.2).predictionSeverity()).isEqualTo(Severity.NONE);

        // v3 scores the latest window: exactly the scores (and, joined on the key, the labels) of re-scoring it.
        BatchScoringJob.run(spark, spec, latest, lastDay, new ScoringModel(3, model), predictions, "run-v3",
                Instant.parse("2025-01-05T08:00:00Z"));
        WindowProfile fromTable = DriftJob.current(spark, spec, latest, lastDay, ref, live, () -> model);
        assertThat(fromTable.scoresFrom()).contains("run run-v3 of v3");
        assertThat(fromTable.findings()).noneMatch(f -> f.contains("predictions"));
        assertThat(fromTable.scores()).containsExactly(drifted.scores());
        assertThat(fromTable.positives()).containsExactly(drifted.positives());
        assertThat(fromTable.negatives()).containsExactly(drifted.negatives());
        DriftComparison t = DriftComparison.of(ref, fromTable, 0.1, 0.2);
        assertThat(t.predictionPsi()).isCloseTo(c.predictionPsi(), within(1e-12));
        assertThat(t.currentAuc()).isCloseTo(sparkAuc, within(0.002));
        assertThat(t.features()).extracting(FeatureDrift::psi).containsExactlyElementsOf(c.features().stream().map(FeatureDrift::psi).toList());

        // The run the registry recorded is read as given, with no lookup: the older run when that is what it names ...
        DriftJob.Predictions recordedOld = new DriftJob.Predictions(predictions, 3,
                new DriftJob.StoredRun("run-v3-old", "2025-01-05T07:00:01Z", table, 2));
        WindowProfile fromRecordedOld = DriftJob.current(spark, spec, latest, lastDay, ref, recordedOld, () -> model);
        assertThat(fromRecordedOld.scoresFrom()).contains("run run-v3-old of v3").contains("scored at 2025-01-05T07:00:01Z");
        assertThat(fromRecordedOld.scores()).containsExactly(stable.scores());
        assertThat(fromRecordedOld.findings()).anyMatch(f -> f.contains("older than the v3 monitored here"));
        // ... and the latest run: the same profile as the table lookup found.
        DriftJob.Predictions recorded = new DriftJob.Predictions(predictions, 3,
                new DriftJob.StoredRun("run-v3", fromTable.scoresFrom().replaceAll(".*scored at (.+) from .*", "$1"), table, latest.version()));
        assertThat(DriftJob.current(spark, spec, latest, lastDay, ref, recorded, () -> model)).usingRecursiveComparison().isEqualTo(fromTable);
        // A recorded run whose rows are not in the table: a finding, no prediction drift, no silent re-scoring.
        DriftJob.Predictions gone = new DriftJob.Predictions(predictions, 3, new DriftJob.StoredRun("run-v3-gone", "2025-01-06T08:00:00Z", table,
                latest.version()));
        WindowProfile missingRun = DriftJob.current(spark, spec, latest, lastDay, ref, gone, () -> model);
        assertThat(missingRun.findings()).anyMatch(f -> f.startsWith("the predictions table " + predictions + " holds no rows of run run-v3-gone of v3"));
        assertThat(missingRun.scored()).isFalse();
        assertThat(missingRun.rows()).isEqualTo(1000);
        // A recorded run into a table that is not there: re-scored with the live model, with a finding.
        DriftJob.Predictions noSuchTable = new DriftJob.Predictions(predictions + "-moved", 3, recorded.latestRun());
        WindowProfile rescored = DriftJob.current(spark, spec, latest, lastDay, ref, noSuchTable, () -> model);
        assertThat(rescored.findings()).anyMatch(f -> f.startsWith("no predictions table at " + predictions + "-moved, though the registry records"
                + " batch scoring run run-v3"));
        assertThat(rescored.scores()).containsExactly(drifted.scores());
    }

    private static double[] column(List<Row> rows, int i) {
        return rows.stream().flatMapToDouble(r -> r.isNullAt(i) ? DoubleStream.empty() : DoubleStream.of(((Number) r.get(i)).doubleValue()))
                .toArray();
    }
}
