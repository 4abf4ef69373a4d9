package io.trellis.spark.scoring;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.time.LocalDate;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class ScoringWindowTest {
    private final SparkSession spark = TestingSpark.session();

    @Test
    void aDateWindowKeepsTheLastDaysUpToTheTablesLatestDate() {
        DatasetVersion source = TestingSampleData.churnTable();
        LocalDate latest = LocalDate.parse(DeltaTables.read(spark, source).agg(max("event_date").cast("string")).head().getString(0));
        long expected = DeltaTables.read(spark, source).where(col("event_date").geq(java.sql.Date.valueOf(latest.minusDays(1)))).count();

        ScoringWindow.Selection last2 = ScoringWindow.lastDays("event_date", 2).select(spark, source);

        assertThat(last2.to()).isEqualTo(latest.toString());
        assertThat(last2.from()).isEqualTo(latest.minusDays(1).toString());
        Row bounds = last2.rows().agg(min("event_date").cast("string"), max("event_date").cast("string"), org.apache.spark.sql.functions.count("*")).head();
        assertThat(bounds.getString(0)).isEqualTo(last2.from());
        assertThat(bounds.getString(1)).isEqualTo(last2.to());
        assertThat(bounds.getLong(2)).isEqualTo(expected).isBetween(1L, TestingSampleData.ROWS - 1);
        assertThat(ScoringWindow.lastDays("event_date", 1).select(spark, source).rows()
                .select("event_date").distinct().count()).isEqualTo(1);
    }

    @Test
    void noWindowOrAWindowWiderThanTheDataMeansEveryRow() {
        DatasetVersion source = TestingSampleData.churnTable();

        ScoringWindow.Selection whole = ScoringWindow.wholeTable().select(spark, source);
        ScoringWindow.Selection wide = ScoringWindow.lastDays("event_date", TestingSampleData.DAYS + 10).select(spark, source);

        assertThat(whole.from()).isNull();
        assertThat(whole.to()).isNull();
        assertThat(whole.rows().count()).isEqualTo(TestingSampleData.ROWS);
        assertThat(wide.rows().count()).isEqualTo(TestingSampleData.ROWS);
        assertThat(new ScoringWindow("event_date", 0).coversWholeTable()).isTrue();
        assertThat(new ScoringWindow(null, 3).coversWholeTable()).isTrue();
    }

    @Test
    void aTimestampWindowReachesBackExactlyTheGivenDays() {
        String path = TestingSpark.newLake().resolve("events").toString();
        spark.sql("""
                SELECT * FROM VALUES
                  (1, TIMESTAMP'2026-03-01 00:00:00'), (2, TIMESTAMP'2026-03-02 11:59:59'),
                  (3, TIMESTAMP'2026-03-02 12:00:00'), (4, TIMESTAMP'2026-03-03 12:00:00'), (5, CAST(NULL AS TIMESTAMP))
                  AS t(id, at)""").write().format("delta").save(path);

        ScoringWindow.Selection day = ScoringWindow.lastDays("at", 1).select(spark, new DatasetVersion(path, 0));

        assertThat(day.from()).isEqualTo("2026-03-02 12:00:00");
        assertThat(day.to()).isEqualTo("2026-03-03 12:00:00");
        assertThat(day.rows().orderBy("id").select("id").as(org.apache.spark.sql.Encoders.INT()).collectAsList()).containsExactly(3, 4);
    }

    @Test
    void aTimeColumnThatIsMissingOrNotATimeIsASchemaMismatch() {
        DatasetVersion source = TestingSampleData.churnTable();

        assertThatThrownBy(() -> ScoringWindow.lastDays("scored_on", 2).select(spark, source))
                .isInstanceOf(TrellisException.class)
                .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.SCHEMA_MISMATCH))
                .hasMessageContaining("'scored_on' is not a column");
        assertThatThrownBy(() -> ScoringWindow.lastDays("region", 2).select(spark, source))
                .isInstanceOf(TrellisException.class)
                .hasMessageContaining("'region'").hasMessageContaining("is string, not a date or timestamp");
    }
}
