package io.trellis.spark.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.scoring.PredictionsTable;
import io.trellis.spark.scoring.ScoringWindow;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The latest scoring run found over the files Delta's statistics leave ({@link DriftJob.Lookup#FILE_STATS}) against
 * the aggregate over every row of the version ({@link DriftJob.Lookup#AGGREGATE}): the same run when older runs sit in
 * their own files, when the latest run shares its files with another version's rows (a shadow commit), when a newer run
 * belongs to another version, and with microsecond run times; and the older runs' files are not read.
 */
class LatestRunFileStatsTest {
    private static final StructType SCHEMA = new StructType().add("id", DataTypes.StringType)
            .add(PredictionsTable.SCORE, DataTypes.DoubleType).add(PredictionsTable.MODEL_VERSION, DataTypes.IntegerType)
            .add(PredictionsTable.RUN_KEY, DataTypes.StringType).add(PredictionsTable.SCORED_AT, DataTypes.TimestampType)
            .add(PredictionsTable.SOURCE_TABLE, DataTypes.StringType).add(PredictionsTable.SOURCE_VERSION, DataTypes.LongType);
    private final SparkSession spark = TestingSpark.session();

    /** One commit (one file) holding the given runs' rows: each run {version, run key, scored at, source version}. */
    private void commit(String path, Object[]... runs) {
        List<Row> rows = new ArrayList<>();
        for (Object[] run : runs) {
            for (int i = 0; i < 3; i++) {
                rows.add(RowFactory.create("k" + i, (i + 0.5) / 3, run[0], run[1], Timestamp.from(Instant.parse((String) run[2])),
                        "raw/keyed", run[3]));
            }
        }
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().format("delta").mode("append").save(path);
    }

    private DriftJob.StoredRun sameAsTheAggregate(String path, int version) {
        DriftJob.Predictions p = new DriftJob.Predictions(path, version);
        List<String> aggregateFindings = new ArrayList<>();
        List<String> statsFindings = new ArrayList<>();
        DriftJob.StoredRun aggregate = DriftJob.latestRun(spark, p, aggregateFindings, DriftJob.Lookup.AGGREGATE);
        DriftJob.StoredRun stats = DriftJob.latestRun(spark, p, statsFindings, DriftJob.Lookup.FILE_STATS);
        assertThat(stats).isEqualTo(aggregate);
        assertThat(statsFindings).isEqualTo(aggregateFindings);
        return stats;
    }

    @Test
    void theLatestRunOfTheVersionIsTheOneTheAggregateFinds() {
        String path = TestingSpark.newLake().resolve("predictions").toString();
        commit(path, new Object[] {1, "run-1", "2025-01-01T00:00:00.000001Z", 3L});
        commit(path, new Object[] {1, "run-2", "2025-01-02T00:00:00.000900Z", 4L});
        // A later commit with an earlier run time (a retried run), and a newer run of another version.
        commit(path, new Object[] {1, "run-retried", "2025-01-02T00:00:00.000100Z", 5L});
        commit(path, new Object[] {2, "run-v2", "2025-01-09T00:00:00Z", 6L});

        DriftJob.StoredRun latest = sameAsTheAggregate(path, 1);

        assertThat(latest.runKey()).isEqualTo("run-2");
        assertThat(latest.sourceVersion()).isEqualTo(4L);
        assertThat(sameAsTheAggregate(path, 2).runKey()).isEqualTo("run-v2");
        assertThat(sameAsTheAggregate(path, 3)).isNull();
    }

    @Test
    void aLatestRunThatSharesItsFileWithAnotherVersionIsStillFound() {
        String path = TestingSpark.newLake().resolve("shadow").toString();
        commit(path, new Object[] {1, "run-1", "2025-01-01T00:00:00Z", 3L});
        // The only file whose rows are all v1 is the older run's: the latest v1 run is in a mixed file (a shadow commit).
        commit(path, new Object[] {1, "run-2", "2025-01-05T00:00:00Z", 4L}, new Object[] {2, "shadow-2", "2025-01-05T00:00:00Z", 4L});

        assertThat(sameAsTheAggregate(path, 1).runKey()).isEqualTo("run-2");
        assertThat(sameAsTheAggregate(path, 2).runKey()).isEqualTo("shadow-2");
    }

    @Test
    void olderRunsFilesAreNotRead() throws IOException {
        String path = TestingSpark.newLake().resolve("skipping").toString();
        commit(path, new Object[] {1, "run-1", "2025-01-01T00:00:00Z", 3L});
        commit(path, new Object[] {1, "run-2", "2025-01-02T00:00:00Z", 4L});
        Path oldest = Path.of(DeltaTables.read(spark, new DatasetVersion(path, 0)).inputFiles()[0].replaceFirst("^file:", ""));
        Files.delete(oldest);
        DriftJob.Predictions p = new DriftJob.Predictions(path, 1);

        assertThat(DriftJob.latestRun(spark, p, new ArrayList<>(), DriftJob.Lookup.FILE_STATS).runKey()).isEqualTo("run-2");
        assertThatThrownBy(() -> DriftJob.latestRun(spark, p, new ArrayList<>(), DriftJob.Lookup.AGGREGATE))
                .hasStackTraceContaining(oldest.getFileName().toString());
    }

    @Test
    void aMonitoringPassGivesTheSameProfileWithEitherLookup() {
        ModelSpec spec = ModelSpecLoader.parse("""
                name: keyed
                source: {table: raw/keyed, keyColumn: id}
                label: y
                features: {numeric: [x], categorical: [c]}
                algorithm: {type: logistic_regression}
                """);
        StructType schema = new StructType().add("id", DataTypes.StringType).add("x", DataTypes.DoubleType)
                .add("c", DataTypes.StringType).add("y", DataTypes.DoubleType).add("day", DataTypes.DateType);
        String source = TestingSpark.newLake().resolve("days").toString();
        for (int day = 1; day <= 3; day++) {
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                rows.add(RowFactory.create("k" + i, day * 10.0 + i, i % 3 == 0 ? "a" : "b", day < 3 ? (double) (i % 2) : null,
                        java.sql.Date.valueOf("2025-01-0" + day)));
            }
            spark.createDataFrame(rows, schema).coalesce(1).write().format("delta").mode("append").save(source);
        }
        DatasetVersion window = new DatasetVersion(source, 2);
        ReferenceProfile reference = DriftJob.reference(spark, spec, new DatasetVersion(source, 0), null);
        String path = TestingSpark.newLake().resolve("scores").toString();
        commit(path, new Object[] {1, "run-1", "2025-01-02T06:00:00Z", 1L});
        commit(path, new Object[] {1, "run-2", "2025-01-03T06:00:00Z", 2L});
        DriftJob.Predictions live = new DriftJob.Predictions(path, 1);

        for (int days = 1; days <= 3; days++) {
            ScoringWindow last = ScoringWindow.lastDays("day", days);
            WindowProfile stats = DriftJob.current(spark, spec, window, last, reference, live, null, DriftJob.Join.ONE_SHUFFLE,
                    DriftJob.Lookup.FILE_STATS, null);
            WindowProfile aggregate = DriftJob.current(spark, spec, window, last, reference, live, null, DriftJob.Join.ONE_SHUFFLE,
                    DriftJob.Lookup.AGGREGATE, null);
            assertThat(stats).usingRecursiveComparison().isEqualTo(aggregate);
            assertThat(stats.rows()).isEqualTo(days * 10L);
            assertThat(stats.scoresFrom()).contains("run run-2 of v1");
            // Keys k0-k2 are scored; their label is the greatest of the window's days that have one.
            assertThat(DriftStatistics.total(stats.positives()) + DriftStatistics.total(stats.negatives())).isEqualTo(days == 1 ? 0 : 3);
        }
    }
}
