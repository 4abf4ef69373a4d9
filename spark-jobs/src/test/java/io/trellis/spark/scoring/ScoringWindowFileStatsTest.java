package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaFileStats;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/**
 * {@link ScoringWindow#selectUsingFileStats} against the whole-table aggregate of {@link ScoringWindow#select}: the same
 * bounds, rows and "any label in the window" on tables built so that the statistics are certain, uncertain or missing,
 * and proof that the lookup skips the files before the window (an older file deleted from disk behind Delta's back
 * breaks the whole-table aggregate, not the lookup).
 */
class ScoringWindowFileStatsTest {
    private final SparkSession spark = TestingSpark.session();

    /** Appends one commit (one file) per SQL {@code VALUES} body of {@code (id INT, at <type>, y <label type>)} rows. */
    private DatasetVersion table(String name, String timeType, String labelType, String tableProperties, String... commits) {
        String path = TestingSpark.newLake().resolve(name).toString();
        for (String values : commits) {
            spark.sql("SELECT CAST(id AS INT) id, CAST(at AS " + timeType + ") at, CAST(y AS " + labelType + ") y FROM VALUES "
                    + values + " AS t(id, at, y)").coalesce(1).write().format("delta").mode("append").save(path);
        }
        if (tableProperties != null) {
            spark.sql("ALTER TABLE delta.`" + path + "` SET TBLPROPERTIES (" + tableProperties + ")");
        }
        return new DatasetVersion(path, DeltaTables.latestVersion(spark, path));
    }

    /** Both lookups give the same selection; returns the file-stats one. */
    private ScoringWindow.Selection sameAsTheAggregate(DatasetVersion source, ScoringWindow window, String label) {
        ScoringWindow.Selection aggregate = window.select(spark, source, label == null ? null : col(label).cast("double").isNotNull());
        ScoringWindow.Selection stats = window.selectUsingFileStats(spark, source, label);
        assertThat(stats.from()).isEqualTo(aggregate.from());
        assertThat(stats.to()).isEqualTo(aggregate.to());
        assertThat(stats.anyMarked()).isEqualTo(aggregate.anyMarked());
        assertThat(ids(stats.rows())).isEqualTo(ids(aggregate.rows()));
        return stats;
    }

    private static List<Integer> ids(Dataset<Row> rows) {
        return rows.orderBy("id").select("id").as(org.apache.spark.sql.Encoders.INT()).collectAsList();
    }

    @Test
    void aDateTableAppendedDayByDayGivesTheSameWindowAndLabelAnswerAsTheAggregate() {
        // Days 1-2 labelled, days 3-4 not yet; one file per day.
        DatasetVersion source = table("daily", "DATE", "INT", null,
                "(1, '2026-03-01', 1), (2, '2026-03-01', 0)",
                "(3, '2026-03-02', 0), (4, '2026-03-02', NULL)",
                "(5, '2026-03-03', NULL), (6, CAST(NULL AS STRING), 1)",
                "(7, '2026-03-04', NULL), (8, '2026-03-04', NULL)");

        ScoringWindow.Selection lastTwo = sameAsTheAggregate(source, ScoringWindow.lastDays("at", 2), "y");
        ScoringWindow.Selection lastThree = sameAsTheAggregate(source, ScoringWindow.lastDays("at", 3), "y");
        ScoringWindow.Selection lastFour = sameAsTheAggregate(source, ScoringWindow.lastDays("at", 4), "y");
        sameAsTheAggregate(source, ScoringWindow.lastDays("at", 2), null);

        assertThat(lastTwo.from()).isEqualTo("2026-03-03");
        assertThat(lastTwo.to()).isEqualTo("2026-03-04");
        // A null-time row with a label is in no window: the statistics say "maybe", the exact check says no.
        assertThat(lastTwo.anyMarked()).isFalse();
        assertThat(lastThree.anyMarked()).isTrue();
        assertThat(lastFour.anyMarked()).isTrue();
        assertThat(lastTwo.anyMarked()).isNotNull();
        assertThat(ScoringWindow.lastDays("at", 2).selectUsingFileStats(spark, source, null).anyMarked()).isNull();
    }

    @Test
    void timestampStatisticsTruncatedToTheMillisecondStillGiveTheExactMicrosecondBounds() {
        DatasetVersion source = table("micros", "TIMESTAMP", "DOUBLE", null,
                "(1, '2026-03-01 10:00:00.000001', 1.0)",
                "(2, '2026-03-02 10:00:00.000999', 0.0), (3, '2026-03-02 10:00:00.000998', NULL)",
                // The window starts at 10:00:00.000999 on 03-02: row 2 (labelled) is in it, row 3 (a microsecond older)
                // is not; the file's max statistic, truncated to 10:00:00.000, lies before the window's start.
                "(4, '2026-03-03 10:00:00.000999', NULL), (5, '2026-03-03 09:00:00', NULL)");

        ScoringWindow.Selection day = sameAsTheAggregate(source, ScoringWindow.lastDays("at", 1), "y");

        assertThat(day.to()).isEqualTo("2026-03-03 10:00:00.000999");
        assertThat(day.from()).isEqualTo("2026-03-02 10:00:00.000999");
        assertThat(ids(day.rows())).containsExactly(2, 4, 5);
        assertThat(day.anyMarked()).isTrue();
        assertThat(sameAsTheAggregate(source, ScoringWindow.lastDays("at", 2), "y").anyMarked()).isTrue();
        assertThat(sameAsTheAggregate(table("ntz", "TIMESTAMP_NTZ", "DOUBLE", null,
                "(1, '2026-03-01 10:00:00.000001', 1.0)", "(2, '2026-03-02 10:00:00.000999', 0.0)"),
                ScoringWindow.lastDays("at", 1), "y").anyMarked()).isTrue();
    }

    @Test
    void aStringLabelIsCheckedOverTheWindowAsInTheAggregate() {
        // Statistics cannot tell whether a string casts to a number, so a string label value is checked exactly.
        DatasetVersion source = table("strings", "DATE", "STRING", null,
                "(1, '2026-03-01', '1')",
                "(2, '2026-03-02', NULL)");
        DatasetVersion numbered = table("numbered", "DATE", "STRING", null,
                "(1, '2026-03-01', NULL)",
                "(2, '2026-03-02', '1')");

        assertThat(sameAsTheAggregate(source, ScoringWindow.lastDays("at", 1), "y").anyMarked()).isFalse();
        assertThat(sameAsTheAggregate(numbered, ScoringWindow.lastDays("at", 1), "y").anyMarked()).isTrue();
    }

    @Test
    void withoutStatisticsOrWithDeletionVectorsTheAnswersStayExact() {
        // No statistics at all: the lookup falls back to the whole-table aggregate.
        String bare = TestingSpark.newLake().resolve("bare").toString();
        spark.sql("CREATE TABLE delta.`" + bare + "` (id INT, at DATE, y INT) USING delta"
                + " TBLPROPERTIES ('delta.dataSkippingNumIndexedCols' = '0')");
        spark.sql("INSERT INTO delta.`" + bare + "` VALUES (1, DATE'2026-03-01', 1), (2, DATE'2026-03-02', NULL)");
        DatasetVersion noStats = new DatasetVersion(bare, DeltaTables.latestVersion(spark, bare));
        assertThat(DeltaFileStats.of(spark, noStats).hasMinMax("at")).isFalse();
        assertThat(sameAsTheAggregate(noStats, ScoringWindow.lastDays("at", 1), "y").to()).isEqualTo("2026-03-02");

        // A deletion vector: the file's statistics still show the deleted latest row and its label.
        DatasetVersion deleted = table("deleted", "DATE", "INT", "'delta.enableDeletionVectors' = 'true'",
                "(1, '2026-03-01', NULL)",
                "(2, '2026-03-02', NULL), (3, '2026-03-05', 1), (4, '2026-03-02', NULL)");
        spark.sql("DELETE FROM delta.`" + deleted.tablePath() + "` WHERE id = 3");
        DatasetVersion afterDelete = new DatasetVersion(deleted.tablePath(), DeltaTables.latestVersion(spark, deleted.tablePath()));
        ScoringWindow.Selection day = sameAsTheAggregate(afterDelete, ScoringWindow.lastDays("at", 1), "y");
        assertThat(day.to()).isEqualTo("2026-03-02");
        assertThat(day.anyMarked()).isFalse();
    }

    @Test
    void aTableWithNoTimeValuesIsStillAnEmptyTable() {
        DatasetVersion source = table("nulls", "DATE", "INT", null, "(1, CAST(NULL AS STRING), 1)");

        assertThatThrownBy(() -> ScoringWindow.lastDays("at", 2).selectUsingFileStats(spark, source, "y"))
                .isInstanceOf(TrellisException.class)
                .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.EMPTY_TABLE))
                .hasMessageContaining("'at'").hasMessageContaining("has no values");
        assertThatThrownBy(() -> ScoringWindow.lastDays("id", 2).selectUsingFileStats(spark, source, "y"))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("is int, not a date or timestamp");
    }

    @Test
    void theLookupReadsOnlyTheFilesThatReachTheWindow() throws IOException {
        DatasetVersion source = table("skipping", "DATE", "INT", null,
                "(1, '2026-03-01', 1)",
                "(2, '2026-03-02', NULL)",
                "(3, '2026-03-03', NULL)");
        Optional<Column> lower = DeltaFileStats.of(spark, source).lowerBoundOfMax("at", DataTypes.DateType);
        assertThat(lower).isPresent();
        assertThat(spark.range(1).select(lower.get().cast("string")).head().getString(0)).isEqualTo("2026-03-03");
        // Remove the first day's data file behind Delta's back: only a read of that file can fail now.
        Path oldest = Path.of(DeltaTables.read(spark, new DatasetVersion(source.tablePath(), 0)).inputFiles()[0]
                .replaceFirst("^file:", ""));
        Files.delete(oldest);

        ScoringWindow.Selection lastTwo = ScoringWindow.lastDays("at", 2).selectUsingFileStats(spark, source, "y");

        assertThat(lastTwo.from()).isEqualTo("2026-03-02");
        assertThat(lastTwo.anyMarked()).isFalse();
        assertThat(ids(lastTwo.rows())).containsExactly(2, 3);
        assertThatThrownBy(() -> ScoringWindow.lastDays("at", 2).select(spark, source, col("y").isNotNull()))
                .hasStackTraceContaining(oldest.getFileName().toString());
    }
}
