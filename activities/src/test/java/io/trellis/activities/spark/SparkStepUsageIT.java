package io.trellis.activities.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.temporal.activity.ActivityOptions;
import io.temporal.client.WorkflowOptions;
import io.temporal.common.RetryOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;
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
import io.trellis.spark.testing.TestingStatusStore;
import io.trellis.spark.usage.ResourceUsage;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SparkActivities;
import java.time.Duration;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Resource accounting end to end: a real activity (the snapshot step) runs under a real Temporal worker with retries,
 * its Spark jobs are measured by the listener, and every attempt lands in PostgreSQL. The first two attempts fail
 * inside Spark (their job group is cancelled as their first job starts: a genuine failed Spark job), the third
 * succeeds; the recorded rows are checked against Spark's own status store for the same job groups.
 */
class SparkStepUsageIT {
    private static final String QUEUE = "usage-it";

    @WorkflowInterface
    public interface SnapshotThrice {
        @WorkflowMethod
        boolean run(ModelSpec spec);
    }

    public static class SnapshotThriceImpl implements SnapshotThrice {
        private final SparkActivities spark = Workflow.newActivityStub(SparkActivities.class, ActivityOptions.newBuilder()
                .setStartToCloseTimeout(Duration.ofMinutes(5))
                .setHeartbeatTimeout(Duration.ofSeconds(30))
                .setRetryOptions(RetryOptions.newBuilder().setInitialInterval(Duration.ofSeconds(1)).setMaximumAttempts(3).build())
                .build());

        @Override
        public boolean run(ModelSpec spec) {
            return spark.snapshotAndValidate(new SnapshotRequest(Workflow.getInfo().getWorkflowId(), spec)).passed();
        }
    }

    /**
     * Fails the first two attempts of the step inside Spark, after they did some work: cancels the attempt's job group
     * when its second job starts.
     */
    private static final class FailFirstTwoAttempts extends SparkListener {
        private final SparkContext sc;
        private final java.util.Map<String, Integer> jobs = new java.util.concurrent.ConcurrentHashMap<>();

        FailFirstTwoAttempts(SparkContext sc) {
            this.sc = sc;
        }

        @Override
        public void onJobStart(SparkListenerJobStart jobStart) {
            String group = jobStart.properties() == null ? null : jobStart.properties().getProperty("spark.jobGroup.id");
            if (group != null && group.startsWith("retrain/usage-retries/") && !group.endsWith("/attempt-3")
                    && jobs.merge(group, 1, Integer::sum) == 2) {
                sc.cancelJobGroup(group);
            }
        }
    }

    private static MetadataStore store;
    private static TestWorkflowEnvironment env;
    private static SparkSession spark;
    private static ModelSpec spec;

    @BeforeAll
    static void start() {
        spark = TestingSpark.session();
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(SparkStepUsageIT.class));
        String yaml = SampleModels.customerChurnYaml()
                .replace("table: " + SampleModels.CUSTOMER_CHURN_TABLE, "table: " + TestingSampleData.churnTable().tablePath());
        spec = ModelSpecLoader.parse(yaml);
        env = TestWorkflowEnvironment.newInstance();
        Worker worker = env.newWorker(QUEUE);
        worker.registerWorkflowImplementationTypes(SnapshotThriceImpl.class);
        worker.registerActivitiesImplementations(new SparkActivitiesImpl(spark, new Lake(TestingSpark.newLake().toString()),
                new LocalArtifactStore(TestingSpark.newLake("trellis-artifacts")), TestingSpark.newLake("trellis-scratch"),
                OpenLineageEmitter.disabled(), store.resourceUsage()::record));
        env.start();
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

    private static boolean runWorkflow(String workflowId) {
        return env.getWorkflowClient().newWorkflowStub(SnapshotThrice.class,
                WorkflowOptions.newBuilder().setTaskQueue(QUEUE).setWorkflowId(workflowId).build()).run(spec);
    }

    @Test
    void aSuccessfulAttemptIsRecordedWithWhatSparkReportsForItsJobGroup() {
        assertThat(runWorkflow("retrain/usage-once/1")).isTrue();

        List<ResourceUsageRecord> rows = store.resourceUsage().attempts("retrain/usage-once/1");
        assertThat(rows).singleElement().satisfies(r -> {
            assertThat(r.outcome()).isEqualTo(UsageOutcome.SUCCEEDED);
            assertThat(r.attempt()).isEqualTo(1);
            assertThat(r.activityType()).isEqualTo("SparkSnapshotAndValidate");
            assertThat(r.step()).isEqualTo("snapshot + validate");
            assertThat(r.modelName()).isEqualTo(spec.name());
            assertThat(r.environment()).isEqualTo(UsageLabels.TRAINING_ENVIRONMENT);
            assertThat(r.wallMs()).isPositive();
            assertThat(r.recordsRead()).isPositive();
            assertThat(asUsage(r)).isEqualTo(TestingStatusStore.usage(spark.sparkContext(), r.sparkJobGroup()));
        });
    }

    @Test
    void everyAttemptOfARetriedStepIsRecordedAndTheRunCostsAllThree() {
        spark.sparkContext().addSparkListener(new FailFirstTwoAttempts(spark.sparkContext()));
        assertThat(runWorkflow("retrain/usage-retries/1")).isTrue();

        List<ResourceUsageRecord> rows = store.resourceUsage().attempts("retrain/usage-retries/1");
        assertThat(rows).extracting(ResourceUsageRecord::attempt).containsExactly(1, 2, 3);
        assertThat(rows).extracting(ResourceUsageRecord::outcome)
                .containsExactly(UsageOutcome.FAILED, UsageOutcome.FAILED, UsageOutcome.SUCCEEDED);
        for (ResourceUsageRecord r : rows) {
            assertThat(r.jobs()).as("attempt %d ran a job", r.attempt()).isPositive();
            assertThat(r.tasks()).as("attempt %d ran tasks", r.attempt()).isPositive();
            ResourceUsage fromSpark = TestingStatusStore.usage(spark.sparkContext(), r.sparkJobGroup());
            if (r.outcome() == UsageOutcome.SUCCEEDED) {
                assertThat(asUsage(r)).as("attempt %d against Spark's status store", r.attempt()).isEqualTo(fromSpark);
            } else {
                // A cancelled group's killed tasks reach the status store's stage data only when the cancelled stage is
                // cleaned up, which can come after this check; the listener counts them as they end. So a failed
                // attempt holds at least what the status store shows, never less.
                ResourceUsage recorded = asUsage(r);
                assertThat(recorded.jobs()).as("attempt %d jobs", r.attempt()).isEqualTo(fromSpark.jobs());
                assertThat(recorded.tasks()).as("attempt %d tasks", r.attempt()).isGreaterThanOrEqualTo(fromSpark.tasks());
                assertThat(recorded.executorRunMillis()).as("attempt %d run time", r.attempt())
                        .isGreaterThanOrEqualTo(fromSpark.executorRunMillis());
                assertThat(recorded.executorCpuNanos()).as("attempt %d CPU time", r.attempt())
                        .isGreaterThanOrEqualTo(fromSpark.executorCpuNanos());
                assertThat(recorded.recordsRead()).as("attempt %d rows read", r.attempt()).isGreaterThanOrEqualTo(fromSpark.recordsRead());
            }
        }

        UsageTotals run = store.resourceUsage().run("retrain/usage-retries/1");
        assertThat(run.attempts()).isEqualTo(3);
        assertThat(run.unsuccessfulAttempts()).isEqualTo(2);
        assertThat(run.executorRunMs()).isEqualTo(rows.stream().mapToLong(ResourceUsageRecord::executorRunMs).sum());
        PriceSheet prices = new PriceSheet("USD", 1000, 10, 1, 100);
        assertThat(prices.cost(run)).isCloseTo(rows.stream().mapToDouble(prices::cost).sum(), within(1e-9))
                .isGreaterThan(prices.cost(rows.get(2)));
    }

    private static ResourceUsage asUsage(ResourceUsageRecord r) {
        return new ResourceUsage(r.jobs(), r.tasks(), r.failedTasks(), r.executorRunMs(), r.executorCpuNs(), r.bytesRead(), r.recordsRead(),
                r.bytesWritten(), r.recordsWritten(), r.shuffleReadBytes(), r.shuffleWriteBytes(), r.peakExecutionMemoryBytes(),
                r.memoryByteMs(), 0);
    }
}
