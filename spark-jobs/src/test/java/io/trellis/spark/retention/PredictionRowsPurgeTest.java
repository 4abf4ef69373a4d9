package io.trellis.spark.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.trellis.spark.DatasetVersion;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.retention.PredictionRowsPurge.ModelVersionKey;
import io.trellis.spark.retention.PredictionRowsPurge.Outcome;
import io.trellis.spark.testing.TestingSpark;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Real Delta predictions tables: the old rows of unpinned model versions go in one DELETE commit naming the retention
 * run; every other row stays, earlier versions still hold the rows, and a retried attempt deletes nothing more.
 */
class PredictionRowsPurgeTest {
    private static final Instant NOW = Instant.now();
    private static final Instant CUTOFF = NOW.minus(Duration.ofDays(365));
    private static final Instant OLD = NOW.minus(Duration.ofDays(400));
    private final SparkSession spark = TestingSpark.session();

    /** Appends {@code rows} prediction rows of {@code model} v{@code version} scored at {@code at} (one commit). */
    private void score(String path, String model, int version, Instant at, int rows) {
        spark.range(0, rows, 1, 1).selectExpr("id as customer_id", "0.75d as score", "1 as prediction", "'" + model + "' as model_name",
                        "cast(" + version + " as int) as model_version", "'run-" + model + "-" + version + "' as run_key",
                        "cast(" + at.getEpochSecond() + " as timestamp) as scored_at", "'lake/source' as source_table",
                        "cast(0 as bigint) as source_version")
                .write().format("delta").mode("append").save(path);
    }

    private Map<String, Long> rowsByModelVersion(String path, long version) {
        Map<String, Long> out = new java.util.TreeMap<>();
        for (Row r : DeltaTables.read(spark, new DatasetVersion(path, version)).selectExpr("concat(model_name, ' v', model_version,"
                + " if(scored_at < cast(" + CUTOFF.getEpochSecond() + " as timestamp), ' old', ' new')) as k").groupBy("k").count()
                .collectAsList()) {
            out.put(r.getString(0), r.getLong(1));
        }
        return out;
    }

    private String predictionsTable() {
        String path = TestingSpark.newLake().resolve("predictions/churn").toString();
        score(path, "churn", 1, OLD, 30);   // v1, unpinned, old: goes
        score(path, "churn", 1, NOW, 7);    // v1, unpinned, but scored inside the compliance period: stays
        score(path, "churn", 2, OLD, 20);   // v2, pinned (live): stays
        score(path, "churn", 3, OLD, 11);   // v3, unpinned, old: goes
        score(path, "fraud", 1, OLD, 5);    // another model's v1 (pinned there): stays
        assertThat(DeltaTables.latestVersion(spark, path)).isEqualTo(4);
        return path;
    }

    @Test
    void theOldRowsOfUnpinnedVersionsGoInOneCommitNamingTheRunAndEverythingElseStays() {
        String path = predictionsTable();
        Set<ModelVersionKey> unpinned = Set.of(new ModelVersionKey("churn", 1), new ModelVersionKey("churn", 3), new ModelVersionKey("churn", 9));

        Outcome plan = PredictionRowsPurge.plan(spark, path, unpinned, CUTOFF);

        assertThat(plan.rows()).containsExactly(Map.entry(new ModelVersionKey("churn", 1), 30L), Map.entry(new ModelVersionKey("churn", 3), 11L));
        assertThat(plan.totalRows()).isEqualTo(41);
        assertThat(plan.commitVersion()).isEmpty();
        assertThat(DeltaTables.latestVersion(spark, path)).as("a plan changes nothing").isEqualTo(4);

        Outcome done = PredictionRowsPurge.delete(spark, path, unpinned, CUTOFF, "retention/scheduled@run-1");

        assertThat(done.rows()).isEqualTo(plan.rows());
        assertThat(done.commitVersion()).hasValue(5);
        assertThat(DeltaTables.latestVersion(spark, path)).isEqualTo(5);
        Row commit = DeltaTable.forPath(spark, path).history(1).select("operation", "userMetadata").collectAsList().get(0);
        assertThat(commit.getString(0)).isEqualTo("DELETE");
        assertThat(commit.getString(1)).isEqualTo("trellis-retention:retention/scheduled@run-1");
        assertThat(DeltaTables.operationMetrics(spark, path, 5)).containsEntry("numDeletedRows", "41");
        assertThat(rowsByModelVersion(path, 5)).containsExactly(Map.entry("churn v1 new", 7L), Map.entry("churn v2 old", 20L),
                Map.entry("fraud v1 old", 5L));
        // the version before the DELETE still holds every row until a vacuum removes its files
        assertThat(rowsByModelVersion(path, 4)).containsEntry("churn v1 old", 30L).containsEntry("churn v3 old", 11L);

        // a retried attempt of the same run finds its commit: same report, no second commit
        Outcome retried = PredictionRowsPurge.delete(spark, path, unpinned, CUTOFF, "retention/scheduled@run-1");
        assertThat(retried.rows()).isEqualTo(done.rows());
        assertThat(retried.commitVersion()).hasValue(5);
        assertThat(DeltaTables.latestVersion(spark, path)).isEqualTo(5);
        // a later run has nothing left to delete and commits nothing
        Outcome later = PredictionRowsPurge.delete(spark, path, unpinned, CUTOFF, "retention/scheduled@run-2");
        assertThat(later.rows()).isEmpty();
        assertThat(later.commitVersion()).isEmpty();
        assertThat(DeltaTables.latestVersion(spark, path)).isEqualTo(5);

        // the files the DELETE rewrote are what a vacuum keeping the latest version frees (margin 0: no whole hour to wait)
        DeltaVacuum.Outcome vacuum = DeltaVacuum.vacuum(spark, path, 5, Duration.ZERO);
        assertThat(vacuum.files()).isNotEmpty();
        assertThat(vacuum.bytes()).isPositive();
        assertThat(rowsByModelVersion(path, 5)).containsEntry("churn v2 old", 20L);
        assertThat(spark.conf().get("spark.databricks.delta.commitInfo.userMetadata", null)).isNull();
    }

    @Test
    void nothingUnpinnedDeletesNothingAndATableWithoutPredictionColumnsIsRefused() {
        String path = predictionsTable();
        assertThat(PredictionRowsPurge.delete(spark, path, Set.of(), CUTOFF, "retention/r@1").rows()).isEmpty();
        assertThat(PredictionRowsPurge.delete(spark, path, Set.of(new ModelVersionKey("churn", 2)), OLD.minusSeconds(1), "retention/r@1")
                .commitVersion()).isEmpty();
        assertThat(DeltaTables.latestVersion(spark, path)).isEqualTo(4);

        String features = TestingSpark.newLake().resolve("features/churn").toString();
        spark.range(3).write().format("delta").save(features);
        assertThatThrownBy(() -> PredictionRowsPurge.plan(spark, features, Set.of(new ModelVersionKey("churn", 1)), CUTOFF))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("not a predictions table: no column model_name");
        assertThat(List.of(DeltaTables.latestVersion(spark, features))).containsExactly(0L);
    }
}
