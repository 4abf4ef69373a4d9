package io.trellis.spark.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.testing.TestingSpark;
import java.time.Duration;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Real Delta tables: a vacuum keeping version k leaves k and later readable and removes what only older versions read.
 * Delta's VACUUM works in whole hours, so each table's commits are spread three hours apart ({@link TestingDeltaClock}).
 */
class DeltaVacuumTest {
    private static final Duration MARGIN = Duration.ZERO;
    private final SparkSession spark = TestingSpark.session();

    /** Four overwrites of 100 rows in two files each, committed 12, 9, 6 and 3 hours ago. */
    private String tableWithFourVersions() {
        String path = TestingSpark.newLake().resolve("features/vacuum").toString();
        for (int v = 0; v < 4; v++) {
            spark.range(v * 100L, v * 100L + 100, 1, 2).write().format("delta").mode("overwrite").save(path);
        }
        io.trellis.spark.testing.TestingDeltaClock.age(path, Duration.ofHours(3));
        assertThat(DeltaTables.latestVersion(spark, path)).isEqualTo(3);
        return path;
    }

    private long rows(String path, long version) {
        return DeltaTables.read(spark, new DatasetVersion(path, version)).count();
    }

    @Test
    void dryRunListsOnlyTheFilesOfVersionsBeforeTheKeptOneAndDeletesNothing() {
        String path = tableWithFourVersions();

        DeltaVacuum.Outcome planned = DeltaVacuum.dryRun(spark, path, 2, MARGIN);

        // versions 0 and 1 wrote two files each; nothing of versions 2 and 3 may go
        assertThat(planned.files()).hasSize(4);
        assertThat(planned.bytes()).isPositive();
        assertThat(planned.latestVersion()).isEqualTo(3);
        for (long v = 0; v <= 3; v++) {
            assertThat(rows(path, v)).isEqualTo(100);
        }
    }

    @Test
    void vacuumKeepsTheKeptVersionAndLaterOnesReadableAndRemovesOlderOnes() {
        String path = tableWithFourVersions();

        DeltaVacuum.Outcome done = DeltaVacuum.vacuum(spark, path, 2, MARGIN);

        assertThat(done.files()).hasSize(4);
        assertThat(done.bytes()).isPositive();
        assertThat(rows(path, 2)).isEqualTo(100);
        assertThat(rows(path, 3)).isEqualTo(100);
        assertThat(DeltaTables.read(spark, new DatasetVersion(path, 2)).agg(org.apache.spark.sql.functions.min("id")).head().getLong(0))
                .isEqualTo(200);
        // the files only versions 0 and 1 read are gone (count() alone is answered from the log's statistics: read the rows)
        assertThatThrownBy(() -> DeltaTables.read(spark, new DatasetVersion(path, 1)).collectAsList()).isInstanceOf(Exception.class);
        assertThatThrownBy(() -> DeltaTables.read(spark, new DatasetVersion(path, 0)).collectAsList()).isInstanceOf(Exception.class);
        // the retention check is back on for everyone else
        assertThat(spark.conf().get("spark.databricks.delta.retentionDurationCheck.enabled", "true")).isEqualTo("true");
        assertThat(spark.conf().get("spark.databricks.delta.vacuum.retentionWindowIgnore.enabled", "true")).isEqualTo("true");
        // a second vacuum finds nothing more; the horizon was the removal of version 2's files (3 h ago), rounded up to 4 h
        assertThat(DeltaVacuum.vacuum(spark, path, 2, MARGIN).files()).isEmpty();
        assertThat(done.retentionHours()).isEqualTo(4.0);
    }

    @Test
    void keepingVersionZeroDeletesNothingAndTheLogRetentionIsRaisedOnce() {
        String path = tableWithFourVersions();

        assertThat(DeltaVacuum.dryRun(spark, path, 0, MARGIN).files()).isEmpty();
        assertThat(DeltaVacuum.keepLogFor(spark, path, Duration.ofDays(3650))).isTrue();
        assertThat(DeltaVacuum.keepLogFor(spark, path, Duration.ofDays(3650))).isFalse();
        Map<String, String> props = DeltaTable.forPath(spark, path).detail().select("properties").head().getJavaMap(0);
        assertThat(props).containsEntry("delta.logRetentionDuration", "interval 3650 days")
                .containsEntry("delta.deletedFileRetentionDuration", "interval 3650 days");
        // the property change is a commit without removals: the pinned version 0 is still readable after a vacuum
        DeltaVacuum.vacuum(spark, path, 0, MARGIN);
        assertThat(rows(path, 0)).isEqualTo(100);
    }
}
