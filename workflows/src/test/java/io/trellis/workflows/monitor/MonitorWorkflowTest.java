package io.trellis.workflows.monitor;

import static io.trellis.workflows.monitor.TestingMonitorActivities.drift;
import static io.trellis.workflows.monitor.TestingMonitorActivities.feature;
import static io.trellis.workflows.monitor.TestingMonitorActivities.problem;
import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retrain.RetrainProgress;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RetrainWorkflow;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MonitorWorkflowTest {
    private static final String SIG = FeatureDriftResult.SIGNIFICANT;
    private static final String NONE = FeatureDriftResult.NONE;
    /** Retrains the monitor started: (workflow ID, request). */
    static final List<String> RETRAINS = new CopyOnWriteArrayList<>();
    static final List<RetrainRequest> RETRAIN_REQUESTS = new CopyOnWriteArrayList<>();

    /** Stands in for the real retrain: records that it was started, then waits a day (time skipping). */
    public static class RecordingRetrain implements RetrainWorkflow {
        @Override
        public RetrainResult run(RetrainRequest request) {
            RETRAINS.add(io.temporal.workflow.Workflow.getInfo().getWorkflowId());
            RETRAIN_REQUESTS.add(request);
            io.temporal.workflow.Workflow.sleep(Duration.ofDays(1));
            return null;
        }

        @Override
        public RetrainProgress progress() {
            return null;
        }

        @Override
        public io.trellis.workflows.promotion.ApprovalReceipt decideBudget(io.trellis.workflows.promotion.ApprovalDecision decision) {
            throw new UnsupportedOperationException("no budget gate in this fake");
        }

        @Override
        public void validateDecideBudget(io.trellis.workflows.promotion.ApprovalDecision decision) {
        }
    }

    private TestWorkflowEnvironment env;
    private TestingMonitorActivities.Registry registry;
    private TestingMonitorActivities.Drift driftStep;

    @BeforeEach
    void setUp() {
        RETRAINS.clear();
        RETRAIN_REQUESTS.clear();
        env = TestWorkflowEnvironment.newInstance();
        Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
        Worker spark = env.newWorker(TaskQueues.SPARK);
        orchestration.registerWorkflowImplementationTypes(MonitorWorkflowImpl.class, RecordingRetrain.class);
        registry = new TestingMonitorActivities.Registry();
        driftStep = new TestingMonitorActivities.Drift();
        orchestration.registerActivitiesImplementations(registry);
        spark.registerActivitiesImplementations(driftStep);
        env.start();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private MonitorResult monitor(String label) {
        return env.getWorkflowClient().newWorkflowStub(MonitorWorkflow.class, WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.ORCHESTRATION)
                        .setWorkflowId(MonitorWorkflow.workflowId("customer-churn", "production", label))
                        .build())
                .run(new MonitorRequest("customer-churn", null, "alice"));
    }

    @Test
    void significantDriftStartsOneRetrainWithTheReasonAndComputesTheReferenceOnce() {
        driftStep.next = drift(500, 0.05, 0.79, feature("monthly_charges", 0.9, SIG), feature("age", 0.01, NONE));

        MonitorResult result = monitor("a");

        assertThat(result.decision()).isEqualTo(MonitorDecision.RETRAIN_STARTED);
        assertThat(result.retrainWorkflowId()).startsWith("retrain/customer-churn/monitor-");
        assertThat(result.reason()).isEqualTo("1 feature drifted significantly (PSI >= 0.200): monthly_charges (PSI 0.900)");
        assertThat(result.significantFeatures()).containsExactly("monthly_charges");
        assertThat(result.reportUri()).endsWith("report.html");
        assertThat(RETRAINS).containsExactly(result.retrainWorkflowId());
        assertThat(RETRAIN_REQUESTS.get(0).triggeredBy()).isEqualTo(MonitorWorkflow.ACTOR);
        assertThat(RETRAIN_REQUESTS.get(0).reason()).startsWith("monitoring monitor/customer-churn/production/a#")
                .endsWith(result.reason());
        assertThat(driftStep.calls).containsExactly("referenceProfile:v3@6", "assess:{\"profile\": 6}");
        assertThat(registry.calls).containsExactly("target", "storeReference:v3@6", "retrainGuard", "renderReport",
                "recordRun:RETRAIN_STARTED");
        assertThat(registry.recorded.get(0).reportUri()).isEqualTo(result.reportUri());
        assertThat(registry.recorded.get(0).environment()).isEqualTo("production");

        // The next run reuses the stored reference, and the cooldown keeps it from starting a second retrain.
        MonitorResult next = monitor("b");
        assertThat(next.decision()).isEqualTo(MonitorDecision.RETRAIN_COOLING_DOWN);
        assertThat(next.reason()).contains("not retraining: monitoring started " + result.retrainWorkflowId());
        assertThat(driftStep.calls).hasSize(3).last().isEqualTo("assess:{\"profile\": 6}");
        assertThat(RETRAINS).hasSize(1);
    }

    @Test
    void noDriftStartsNothing() {
        driftStep.next = drift(500, 0.02, 0.79, feature("monthly_charges", 0.15, FeatureDriftResult.MODERATE), feature("age", 0.01, NONE));
        MonitorResult result = monitor("a");
        assertThat(result.decision()).isEqualTo(MonitorDecision.NO_DRIFT);
        assertThat(result.reason()).isEqualTo("no feature drifted significantly, score PSI 0.020, AUC 0.790");
        assertThat(RETRAINS).isEmpty();
        assertThat(registry.calls).doesNotContain("retrainGuard");
    }

    @Test
    void aRunningRetrainIsNotStartedTwice() {
        registry.runningRetrain = "retrain/customer-churn/20261126-010000";
        driftStep.next = drift(500, 0.5, null, feature("monthly_charges", 0.9, SIG));
        MonitorResult result = monitor("a");
        assertThat(result.decision()).isEqualTo(MonitorDecision.RETRAIN_ALREADY_RUNNING);
        assertThat(result.reason()).contains("the score distribution shifted (PSI 0.500 >= 0.200)")
                .endsWith("not retraining: retrain/customer-churn/20261126-010000 is still running");
        assertThat(RETRAINS).isEmpty();
    }

    @Test
    void anAucDropBeyondTheMarginTriggersARetrain() {
        driftStep.next = drift(400, 0.01, 0.70, feature("age", 0.01, NONE));
        MonitorResult result = monitor("a");
        assertThat(result.decision()).isEqualTo(MonitorDecision.RETRAIN_STARTED);
        assertThat(result.reason()).isEqualTo("AUC fell from 0.800 at training to 0.700 on 400 labelled recent rows (allowed drop 0.050)");
    }

    @Test
    void badInputNeedsAttentionAndNeverRetrains() {
        driftStep.next = drift(0, null, null);
        assertThat(monitor("empty")).satisfies(r -> {
            assertThat(r.decision()).isEqualTo(MonitorDecision.NEEDS_ATTENTION);
            assertThat(r.reason()).startsWith("the current window has no rows");
        });

        driftStep.next = drift(500, null, null, problem("age", "missing from the current data"),
                problem("region", "all 500 values in the window are null"), feature("tenure_months", 0.02, NONE));
        assertThat(monitor("broken")).satisfies(r -> {
            assertThat(r.decision()).isEqualTo(MonitorDecision.NEEDS_ATTENTION);
            assertThat(r.reason()).isEqualTo("no drift that warrants a retrain; data problems (not a reason to retrain):"
                    + " age: missing from the current data; region: all 500 values in the window are null");
        });

        registry.snapshot = null;
        registry.storedProfile = null;
        assertThat(monitor("no-reference")).satisfies(r -> {
            assertThat(r.decision()).isEqualTo(MonitorDecision.NEEDS_ATTENTION);
            assertThat(r.reason()).startsWith("v3 has no pinned training snapshot in its lineage");
            assertThat(r.drift()).isNull();
        });

        registry.live = null;
        assertThat(monitor("nothing-live")).satisfies(r -> {
            assertThat(r.decision()).isEqualTo(MonitorDecision.NEEDS_ATTENTION);
            assertThat(r.reason()).startsWith("nothing is live in production");
        });
        assertThat(RETRAINS).isEmpty();
        assertThat(registry.recorded).extracting(MonitorRecord::decision).containsOnly(MonitorDecision.NEEDS_ATTENTION).hasSize(4);
    }

    @Test
    void aCronScheduleMonitorsEveryTickButStartsOneRetrainWhileDriftPersists() {
        driftStep.next = drift(500, 0.05, null, feature("monthly_charges", 0.9, SIG));
        MonitorWorkflow scheduled = env.getWorkflowClient().newWorkflowStub(MonitorWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(MonitorWorkflow.scheduleId("customer-churn", "production"))
                .setCronSchedule("0 * * * *")
                .build());
        WorkflowClient.start(scheduled::run, new MonitorRequest("customer-churn", null, MonitorWorkflow.ACTOR));

        env.sleep(Duration.ofMinutes(250));

        assertThat(registry.recorded).hasSizeGreaterThanOrEqualTo(4);
        assertThat(registry.recorded).extracting(MonitorRecord::runKey).doesNotHaveDuplicates();
        assertThat(registry.recorded).filteredOn(r -> r.decision() == MonitorDecision.RETRAIN_STARTED).hasSize(1);
        assertThat(registry.recorded.subList(1, registry.recorded.size())).extracting(MonitorRecord::decision)
                .containsOnly(MonitorDecision.RETRAIN_COOLING_DOWN);
        assertThat(RETRAINS).hasSize(1);
        WorkflowStub.fromTyped(scheduled).terminate("test over");
    }
}
