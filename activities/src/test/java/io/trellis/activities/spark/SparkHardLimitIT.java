package io.trellis.activities.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.tables.DeltaTable;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.trellis.activities.artifacts.LocalArtifactStore;
import io.trellis.activities.lineage.OpenLineageEmitter;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.metadata.UsageTotals;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spark.Lake;
import io.trellis.spark.testing.TestingSampleData;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Spark step that takes its run past the budget's hard limit is cancelled before it commits: the features step of a
 * run whose limit is just above what its snapshot step cost is stopped once its first tasks are priced; the activity
 * fails with BUDGET_EXCEEDED (not retried), the attempt is recorded as OVER_LIMIT, and the feature table has no commit.
 */
class SparkHardLimitIT {
    /** Expensive compute, so that a few task-seconds are worth a visible amount. */
    private static final PriceSheet PRICES = new PriceSheet("USD", 1000.0, 0, 0, 0);
    private static final ActivityOptions OPTIONS = ActivityOptions.newBuilder()
            .setStartToCloseTimeout(Duration.ofMinutes(5))
            .setHeartbeatTimeout(Duration.ofSeconds(30))
            .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build())
            .build();

    private static MetadataStore store;
    private static TestActivityEnvironment env;
    private static SparkSession spark;
    private static Lake lake;

    @BeforeAll
    static void start() {
        spark = TestingSpark.session();
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(SparkHardLimitIT.class));
        lake = new Lake(TestingSpark.newLake().toString());
        env = TestActivityEnvironment.newInstance();
        env.registerActivitiesImplementations(new SparkActivitiesImpl(spark, lake, new LocalArtifactStore(TestingSpark.newLake("a")),
                TestingSpark.newLake("s"), OpenLineageEmitter.disabled(), new PricedUsageSink(store.resourceUsage(), PRICES)));
    }

    @AfterAll
    static void stop() {
        if (env != null) {
            env.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private static ModelSpec spec(String budget) {
        return ModelSpecLoader.parse(SampleModels.customerChurnYaml()
                .replace("table: " + SampleModels.CUSTOMER_CHURN_TABLE, "table: " + TestingSampleData.churnTable().tablePath())
                + (budget == null ? "" : "\nbudget: " + budget + "\n"));
    }

    @Test
    void aStepOverTheHardLimitIsCancelledBeforeItCommits() {
        SparkActivities activities = env.newActivityStub(SparkActivities.class, OPTIONS);
        SnapshotResult snapshot = activities.snapshotAndValidate(new SnapshotRequest("retrain/customer-churn/limit", spec(null)));
        UsageTotals afterSnapshot = store.resourceUsage().rollup(UsageTotals.By.RUN, "customer-churn", 10).get(0);
        double spent = PRICES.cost(afterSnapshot);
        assertThat(spent).as("the snapshot step used executor time").isPositive();

        // A limit a hair above what the run has spent: the features step trips it with its first priced tasks.
        ModelSpec limited = spec("{hardLimitPerRun: " + (spent + 1e-6) + "}");
        assertThatThrownBy(() -> activities.buildFeatures(new FeatureRequest("retrain/customer-churn/limit", limited, snapshot.source())))
                .isInstanceOf(ActivityFailure.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
                    assertThat(f.isNonRetryable()).isTrue();
                    assertThat(f.getOriginalMessage()).contains("build features cancelled").contains("over the hard limit");
                });

        List<ResourceUsageRecord> attempts = store.resourceUsage().attempts(afterSnapshot.key());
        assertThat(attempts).extracting(ResourceUsageRecord::step, ResourceUsageRecord::outcome).containsExactly(
                org.assertj.core.groups.Tuple.tuple("snapshot + validate", UsageOutcome.SUCCEEDED),
                org.assertj.core.groups.Tuple.tuple("build features", UsageOutcome.OVER_LIMIT));
        assertThat(attempts.get(1).tasks()).isPositive();

        // Nothing half-written: the run's feature table has no Delta commit at all.
        String table = SparkActivitiesImpl.featureTable(lake, "customer-churn");
        assertThat(DeltaTable.isDeltaTable(spark, table)).isFalse();
        assertThat(Files.exists(Path.of(java.net.URI.create(table.startsWith("file:") ? table : Path.of(table).toUri().toString()))
                .resolve("_delta_log").resolve("00000000000000000000.json"))).isFalse();
    }
}
