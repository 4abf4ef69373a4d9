package io.trellis.spark.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.scoring.PredictionsTable;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The one-shuffle label join ({@link LabelJoin}) against the plain SQL left join with {@code groupBy(key).max(label)}
 * it replaced, and against counts worked out by hand: repeated keys on both sides, null and NaN labels, null keys,
 * keys on one side only, a null score, runs and versions that must not be read, several partitions per side.
 */
class LabelJoinTest {
    private static final ModelSpec SPEC = ModelSpecLoader.parse("""
            name: keyed
            source: {table: raw/keyed, keyColumn: id}
            label: y
            features: {numeric: [x], categorical: [c]}
            algorithm: {type: logistic_regression}
            """);
    private static SparkSession spark;
    private static ReferenceProfile reference;

    @BeforeAll
    static void reference() {
        spark = TestingSpark.session();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            rows.add(RowFactory.create("r" + i, i + 0.5, i % 2 == 0 ? "a" : "b", (double) (i % 2)));
        }
        reference = DriftJob.reference(spark, SPEC, write(rows, DataTypes.StringType), null);
    }

    /** A window table of {@code (id, x, c, y)} rows, written as three files. */
    private static DatasetVersion write(List<Row> rows, DataType keyType) {
        StructType schema = new StructType().add("id", keyType).add("x", DataTypes.DoubleType).add("c", DataTypes.StringType)
                .add("y", DataTypes.DoubleType);
        String path = TestingSpark.newLake().resolve("window").toString();
        spark.createDataFrame(rows, schema).repartition(3).write().format("delta").save(path);
        return new DatasetVersion(path, 0);
    }

    /** A predictions table of {@code (id, score)} rows of one run of one version each, written as two files per run. */
    private static String predictions(DataType keyType, List<Object[]> runs) {
        StructType schema = new StructType().add("id", keyType).add(PredictionsTable.SCORE, DataTypes.DoubleType)
                .add(PredictionsTable.PREDICTION, DataTypes.IntegerType).add(PredictionsTable.MODEL_NAME, DataTypes.StringType)
                .add(PredictionsTable.MODEL_VERSION, DataTypes.IntegerType).add(PredictionsTable.RUN_KEY, DataTypes.StringType)
                .add(PredictionsTable.SCORED_AT, DataTypes.TimestampType).add(PredictionsTable.SOURCE_TABLE, DataTypes.StringType)
                .add(PredictionsTable.SOURCE_VERSION, DataTypes.LongType);
        String path = TestingSpark.newLake().resolve("predictions").toString();
        for (Object[] run : runs) {
            List<Row> rows = new ArrayList<>();
            @SuppressWarnings("unchecked")
            List<Object[]> scores = (List<Object[]>) run[3];
            for (Object[] s : scores) {
                rows.add(RowFactory.create(s[0], s[1], 0, "keyed", run[0], run[1], Timestamp.from(Instant.parse((String) run[2])),
                        "raw/keyed", 0L));
            }
            spark.createDataFrame(rows, schema).repartition(2).write().format("delta").mode("append").save(path);
        }
        return path;
    }

    private static Object key(DataType type, String k) {
        if (k == null) {
            return null;
        }
        return type.equals(DataTypes.StringType) ? k : type.equals(DataTypes.LongType) ? (Object) (long) k.charAt(0)
                : (Object) (double) k.charAt(0);
    }

    private static void joinsAsTheSqlJoinAndByHand(DataType keyType) {
        List<Row> window = new ArrayList<>();
        Object[][] labelled = {
            {"a", 1.0}, {"a", 0.0},            // max 1: positive
            {"b", 0.0},                        // negative
            {"c", null},                       // only a null label: unlabelled
            {"d", Double.NaN}, {"d", 1.0},     // max is NaN (Spark orders NaN above all): unlabelled
            {null, 1.0},                       // a null key matches nothing
            {"e", 0.0}, {"e", null},           // max ignores the null: negative
            {"g", 1.0},                        // no stored score
        };
        for (int i = 0; i < labelled.length; i++) {
            window.add(RowFactory.create(key(keyType, (String) labelled[i][0]), i * 10.0, i % 2 == 0 ? "a" : "z",
                    labelled[i][1]));
        }
        DatasetVersion source = write(window, keyType);
        List<Object[]> latest = new ArrayList<>();
        Object[][] scores = {
            {"a", 0.9375}, {"a", 0.125},       // a repeated key: both scores get its label
            {"b", 0.375}, {"c", 0.625}, {"d", 0.875}, {"e", 0.0625},
            {"z", 0.3125},                     // not in the window
            {null, 0.5625},                    // a null key
            {"f", null},                       // no score: not counted
        };
        for (Object[] s : scores) {
            latest.add(new Object[] {key(keyType, (String) s[0]), s[1]});
        }
        List<Object[]> older = List.<Object[]>of(new Object[] {key(keyType, "a"), 0.0});
        String table = predictions(keyType, List.of(
                new Object[] {1, "run-old", "2025-01-01T00:00:00Z", older},
                new Object[] {1, "run-latest", "2025-01-02T00:00:00Z", latest},
                new Object[] {2, "run-other-version", "2025-01-03T00:00:00Z", older}));
        DriftJob.Predictions live = new DriftJob.Predictions(table, 1);

        WindowProfile fast = DriftJob.current(spark, SPEC, source, ScoringWindow.wholeTable(), reference, live, null,
                DriftJob.Join.ONE_SHUFFLE);
        WindowProfile sql = DriftJob.current(spark, SPEC, source, ScoringWindow.wholeTable(), reference, live, null, DriftJob.Join.SQL);

        assertThat(fast.scoresFrom()).contains("run run-latest of v1");
        assertThat(fast).usingRecursiveComparison().isEqualTo(sql);
        long[] expectedScores = new long[DriftJob.SCORE_BINS];
        for (int bin : new int[] {937, 125, 375, 625, 875, 62, 312, 562}) {
            expectedScores[bin]++;
        }
        long[] expectedPositives = new long[DriftJob.SCORE_BINS];
        expectedPositives[937] = 1;
        expectedPositives[125] = 1;
        long[] expectedNegatives = new long[DriftJob.SCORE_BINS];
        expectedNegatives[375] = 1;
        expectedNegatives[62] = 1;
        assertThat(fast.scores()).containsExactly(expectedScores);
        assertThat(fast.positives()).containsExactly(expectedPositives);
        assertThat(fast.negatives()).containsExactly(expectedNegatives);
        assertThat(fast.rows()).isEqualTo(labelled.length);
        assertThat(fast.scored()).isTrue();
    }

    @Test
    void aStringKeyJoinsLikeTheSqlJoin() {
        joinsAsTheSqlJoinAndByHand(DataTypes.StringType);
    }

    @Test
    void aLongKeyJoinsLikeTheSqlJoin() {
        joinsAsTheSqlJoinAndByHand(DataTypes.LongType);
    }

    @Test
    void aDoubleKeyFallsBackToTheSqlJoinWithTheSameResult() {
        assertThat(DriftJob.hashable(DataTypes.DoubleType)).isFalse();
        joinsAsTheSqlJoinAndByHand(DataTypes.DoubleType);
    }

    @Test
    void aWindowWithoutLabelsSkipsTheJoinWithTheSameResult() {
        // Day 1: labelled rows; day 2: rows whose labels have not arrived. Every row has a stored score.
        StructType schema = new StructType().add("id", DataTypes.StringType).add("x", DataTypes.DoubleType)
                .add("c", DataTypes.StringType).add("y", DataTypes.DoubleType).add("day", DataTypes.DateType);
        List<Row> rows = new ArrayList<>();
        List<Object[]> scores = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            boolean dayOne = i < 20;
            rows.add(RowFactory.create("k" + i, i * 5.0, "a", dayOne ? (double) (i % 2) : null,
                    java.sql.Date.valueOf(dayOne ? "2025-01-01" : "2025-01-02")));
            scores.add(new Object[] {"k" + i, (i + 0.5) / 40});
        }
        String path = TestingSpark.newLake().resolve("days").toString();
        spark.createDataFrame(rows, schema).repartition(2).write().format("delta").save(path);
        DatasetVersion source = new DatasetVersion(path, 0);
        DriftJob.Predictions live = new DriftJob.Predictions(predictions(DataTypes.StringType,
                List.<Object[]>of(new Object[] {1, "run", "2025-01-02T06:00:00Z", scores})), 1);
        org.apache.spark.sql.Column labelled = org.apache.spark.sql.functions.col("y").isNotNull();

        ScoringWindow lastDay = ScoringWindow.lastDays("day", 1);
        assertThat(lastDay.select(spark, source, labelled).anyMarked()).isFalse();
        WindowProfile fast = DriftJob.current(spark, SPEC, source, lastDay, reference, live, null, DriftJob.Join.ONE_SHUFFLE);
        WindowProfile sql = DriftJob.current(spark, SPEC, source, lastDay, reference, live, null, DriftJob.Join.SQL);
        assertThat(fast).usingRecursiveComparison().isEqualTo(sql);
        assertThat(fast).usingRecursiveComparison().isEqualTo(DriftJob.current(spark, SPEC, source, lastDay, reference, live, null,
                DriftJob.Join.ONE_SHUFFLE, DriftJob.Lookup.AGGREGATE, null));
        assertThat(fast.rows()).isEqualTo(20);
        assertThat(DriftStatistics.total(fast.scores())).isEqualTo(40);
        assertThat(DriftStatistics.total(fast.positives()) + DriftStatistics.total(fast.negatives())).isZero();

        ScoringWindow lastTwoDays = ScoringWindow.lastDays("day", 2);
        assertThat(lastTwoDays.select(spark, source, labelled).anyMarked()).isTrue();
        assertThat(lastTwoDays.select(spark, source).anyMarked()).as("not asked").isNull();
        WindowProfile fastBoth = DriftJob.current(spark, SPEC, source, lastTwoDays, reference, live, null, DriftJob.Join.ONE_SHUFFLE);
        WindowProfile sqlBoth = DriftJob.current(spark, SPEC, source, lastTwoDays, reference, live, null, DriftJob.Join.SQL);
        assertThat(fastBoth).usingRecursiveComparison().isEqualTo(sqlBoth);
        assertThat(fastBoth).usingRecursiveComparison().isEqualTo(DriftJob.current(spark, SPEC, source, lastTwoDays, reference, live,
                null, DriftJob.Join.ONE_SHUFFLE, DriftJob.Lookup.AGGREGATE, null));
        assertThat(DriftStatistics.total(fastBoth.positives())).isEqualTo(10);
        assertThat(DriftStatistics.total(fastBoth.negatives())).isEqualTo(10);
    }

    @Test
    void sparksMaxOfLabelsIsWhatThePartitionsCompute() {
        assertThat(LabelJoin.greatest(0.0, 1.0)).isEqualTo(1.0);
        assertThat(LabelJoin.greatest(Double.NaN, 1.0)).isNaN();
        assertThat(LabelJoin.greatest(1.0, Double.NaN)).isNaN();
        List<Row> maxima = spark.sql("SELECT max(v) FROM VALUES (1.0D), (CAST('NaN' AS DOUBLE)) AS t(v)").collectAsList();
        assertThat(maxima.get(0).getDouble(0)).as("Spark's own max agrees").isNaN();
    }

    @Test
    void theLabelMapKeepsEachKeysGreatestLabelThroughGrowth() {
        LabelJoin.LabelMap labels = new LabelJoin.LabelMap();
        int n = 50_000; // well past the initial capacity: several rehashes
        for (int i = 0; i < n; i++) {
            labels.merge(org.apache.spark.unsafe.types.UTF8String.fromString("k" + i), i % 2);
            labels.merge(org.apache.spark.unsafe.types.UTF8String.fromString("k" + i), 0.0);
            labels.merge((long) i, i % 3 == 0 ? Double.NaN : 1.0);
        }
        for (int i = 0; i < n; i++) {
            // Equal bytes in a new object find the entry (keys are compared by value, not identity).
            assertThat(labels.get(org.apache.spark.unsafe.types.UTF8String.fromString("k" + i))).isEqualTo(i % 2);
            if (i % 3 == 0) {
                assertThat(labels.get((long) i)).isNaN();
            } else {
                assertThat(labels.get((long) i)).isEqualTo(1.0);
            }
        }
        assertThat(labels.get(org.apache.spark.unsafe.types.UTF8String.fromString("k" + n))).as("an absent key: no label").isNaN();
        assertThat(labels.get((long) n)).isNaN();
        assertThat(labels.get(7)).as("an Integer is not the Long 7").isNaN();
    }
}
