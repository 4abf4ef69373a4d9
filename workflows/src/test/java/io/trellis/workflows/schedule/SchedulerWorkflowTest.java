package io.trellis.workflows.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import io.temporal.workflow.Workflow;
import io.temporal.workflow.unsafe.WorkflowUnsafe;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retrain.RetrainProgress;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainResult;
import io.trellis.workflows.retrain.RetrainWorkflow;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The durable scheduler on the SDK's test server with time skipping: a simulated month takes seconds. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class SchedulerWorkflowTest {
    private static final String MODEL = "customer-churn";
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    /** A run as the fake retrain saw it: requester, start and end in workflow time. */
    record Run(String workflowId, String requestedBy, long start, long end) {}

    static final List<Run> RUNS = Collections.synchronizedList(new ArrayList<>());
    static volatile Duration runDuration = Duration.ofMinutes(10);

    /** Stands in for the retrain: the scheduler only needs a child that takes time and ends. */
    public static final class FakeRetrain implements RetrainWorkflow {
        @Override
        public RetrainResult run(RetrainRequest request) {
            long start = Workflow.currentTimeMillis();
            Workflow.sleep(runDuration);
            if (!WorkflowUnsafe.isReplaying()) {
                RUNS.add(new Run(Workflow.getInfo().getWorkflowId(), request.triggeredBy(), start, Workflow.currentTimeMillis()));
            }
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
    private WorkflowClient client;

    @BeforeEach
    void setUp() {
        RUNS.clear();
        runDuration = Duration.ofMinutes(10);
        env = TestWorkflowEnvironment.newInstance();
        register(env.newWorker(TaskQueues.ORCHESTRATION));
        env.start();
        client = env.getWorkflowClient();
    }

    private static void register(Worker worker) {
        worker.registerWorkflowImplementationTypes(SchedulerWorkflowImpl.class, FakeRetrain.class);
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private SchedulerWorkflow start(String cron, String zone, OverlapPolicy overlap) {
        ScheduleDefinition def = new ScheduleDefinition(ScheduleDefinition.scheduleId(ScheduleKind.RETRAIN, MODEL, null), ScheduleKind.RETRAIN,
                MODEL, null, cron, zone, overlap).validated();
        SchedulerWorkflow wf = client.newWorkflowStub(SchedulerWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(SchedulerWorkflow.workflowId(def.scheduleId())).build());
        WorkflowClient.start(wf::run, ScheduleState.initial(def, false, null));
        return wf;
    }

    private static List<Instant> starts() {
        synchronized (RUNS) {
            return RUNS.stream().map(r -> Instant.ofEpochMilli(r.start())).sorted().toList();
        }
    }

    private static void assertNoOverlap() {
        List<Run> runs;
        synchronized (RUNS) {
            runs = new ArrayList<>(RUNS);
        }
        runs.sort((a, b) -> Long.compare(a.start(), b.start()));
        for (int i = 1; i < runs.size(); i++) {
            assertThat(runs.get(i).start()).as("run %d starts after run %d ended", i, i - 1).isGreaterThanOrEqualTo(runs.get(i - 1).end());
        }
    }

    /** Workflow time is the skipped clock plus a few real milliseconds: compare to the second. */
    private static Instant second(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS);
    }

    @Test
    void firesOnTimeEveryDayAcrossASimulatedMonthAndItsHistoryRebuildsOnANewWorker() throws Exception {
        SchedulerWorkflow wf = start("0 2 * * *", "Europe/Berlin", OverlapPolicy.SKIP);
        Instant begin = Instant.ofEpochMilli(env.currentTimeMillis());
        env.sleep(Duration.ofDays(31));

        List<Instant> starts = starts().stream().map(SchedulerWorkflowTest::second).toList();
        Instant end = begin.plus(Duration.ofDays(31));
        List<Instant> expected = new ArrayList<>();
        CronExpression cron = CronExpression.parse("0 2 * * *");
        for (Instant t = cron.next(begin, BERLIN); t.isBefore(end.minus(Duration.ofMinutes(10))); t = cron.next(t, BERLIN)) {
            expected.add(t);
        }
        assertThat(expected).hasSizeBetween(30, 31);
        assertThat(starts).containsExactlyElementsOf(expected);
        assertThat(starts).allSatisfy(t -> assertThat(t.atZone(BERLIN).toLocalTime()).isEqualTo(LocalTime.of(2, 0)));
        assertThat(RUNS).allSatisfy(r -> {
            assertThat(r.requestedBy()).isEqualTo("schedule:retrain-" + MODEL);
            assertThat(r.workflowId()).startsWith("retrain/" + MODEL + "/");
        });
        ScheduleInfo info = wf.describe();
        assertThat(info.fired()).isEqualTo(RUNS.size());
        assertThat(info.skipped()).isZero();
        assertThat(Instant.parse(info.nextFireTime()).atZone(BERLIN).toLocalTime()).isEqualTo(LocalTime.of(2, 0));

        // What a restarted worker does: rebuild the schedule from its month of history with nothing cached.
        WorkflowExecutionHistory history = client.fetchHistory(SchedulerWorkflow.workflowId("retrain-" + MODEL));
        WorkflowReplayer.replayWorkflowExecution(history, SchedulerWorkflowImpl.class);
    }

    @Test
    void pauseStopsFiringsUntilResumedAndTriggerNowFiresAtOnce() {
        SchedulerWorkflow wf = start("0 */6 * * *", "UTC", OverlapPolicy.SKIP);
        env.sleep(Duration.ofDays(1));
        wf.pause("data source migration");
        // A run that fired just before the pause still finishes (runs take 10 minutes): count after it.
        env.sleep(Duration.ofMinutes(30));
        int beforePause = RUNS.size();
        assertThat(beforePause).isBetween(3, 5);

        env.sleep(Duration.ofDays(3));
        assertThat(RUNS).hasSize(beforePause);
        ScheduleInfo paused = wf.describe();
        assertThat(paused.paused()).isTrue();
        assertThat(paused.note()).isEqualTo("data source migration");
        assertThat(paused.nextFireTime()).isNull();

        long resumedAt = env.currentTimeMillis();
        wf.resume("migration done");
        env.sleep(Duration.ofHours(13));
        assertThat(RUNS.size()).isBetween(beforePause + 2, beforePause + 3);
        assertThat(starts().get(beforePause).toEpochMilli()).isGreaterThanOrEqualTo(resumedAt);

        int beforeTrigger = RUNS.size();
        long triggeredAt = env.currentTimeMillis();
        wf.triggerNow();
        env.sleep(Duration.ofMinutes(30));
        // The triggered run starts at once (a scheduled firing may follow within the half hour).
        assertThat(RUNS.size()).isBetween(beforeTrigger + 1, beforeTrigger + 2);
        assertThat(starts().get(beforeTrigger).toEpochMilli() - triggeredAt).isBetween(0L, Duration.ofMinutes(1).toMillis());
        assertNoOverlap();
    }

    @Test
    void overlapSkipDropsFiringsWhileARunRuns() {
        runDuration = Duration.ofMinutes(150);
        SchedulerWorkflow wf = start("0 * * * *", "UTC", OverlapPolicy.SKIP);
        env.sleep(Duration.ofHours(12));
        assertNoOverlap();
        // Hourly firings, runs of 2.5 hours: every third firing starts a run, the two between are skipped.
        assertThat(RUNS.size()).isBetween(3, 4);
        ScheduleInfo info = wf.describe();
        assertThat(info.skipped()).isBetween(7L, 9L);
        assertThat(info.recentActions()).anyMatch(a -> a.contains("skipped"));
    }

    @Test
    void overlapBufferOneStartsOneBufferedFiringRightAfterTheRunEnds() {
        runDuration = Duration.ofMinutes(150);
        SchedulerWorkflow wf = start("0 * * * *", "UTC", OverlapPolicy.BUFFER_ONE);
        env.sleep(Duration.ofHours(12));
        assertNoOverlap();
        List<Run> runs;
        synchronized (RUNS) {
            runs = new ArrayList<>(RUNS);
        }
        runs.sort((a, b) -> Long.compare(a.start(), b.start()));
        assertThat(runs.size()).isBetween(4, 5);
        for (int i = 1; i < runs.size(); i++) {
            assertThat(runs.get(i).start() - runs.get(i - 1).end()).as("buffered run %d starts as run %d ends", i, i - 1).isBetween(0L, 1000L);
        }
        assertThat(wf.describe().skipped()).isPositive();
    }

    @Test
    void updateChangesTheCronAndDeleteEndsTheScheduleWithoutCancellingARun() {
        runDuration = Duration.ofHours(3);
        SchedulerWorkflow wf = start("0 2 * * *", "UTC", OverlapPolicy.SKIP);
        wf.update(new ScheduleDefinition("ignored", ScheduleKind.RETRAIN, MODEL, null, "30 4 * * *", "America/New_York", OverlapPolicy.SKIP));
        env.sleep(Duration.ofDays(2).plusHours(1));
        assertThat(starts()).isNotEmpty().allSatisfy(s -> assertThat(second(s).atZone(ZoneId.of("America/New_York")).toLocalTime())
                .isEqualTo(LocalTime.of(4, 30)));
        ScheduleInfo info = wf.describe();
        assertThat(info.definition().scheduleId()).isEqualTo("retrain-" + MODEL);
        assertThat(info.definition().cron()).isEqualTo("30 4 * * *");

        wf.triggerNow();
        env.sleep(Duration.ofMinutes(5));
        String running = wf.describe().runningWorkflowId();
        assertThat(running).isNotNull();
        wf.delete();
        WorkflowStub.fromTyped(wf).getResult(Void.class);
        // The run the schedule had started is abandoned, not cancelled: it runs to its end (time skips while we wait).
        WorkflowStub child = client.newUntypedWorkflowStub(running);
        child.getResult(RetrainResult.class);
        assertThat(child.describe().getStatus()).isEqualTo(io.temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
        assertThat(RUNS).anyMatch(r -> r.workflowId().equals(running) && r.end() - r.start() >= Duration.ofHours(3).toMillis());
    }
    /**
     * A live worker restart mid-month: the worker process stops (its factory shut down) and a fresh one, with an empty
     * cache, takes over on the same server; firings continue on time and none is lost or doubled. Sticky execution is
     * off as in the crash tests: the SDK's test server never expires a dead worker's sticky queue (a real cluster does
     * after 5 s), so a task sent there would hold time skipping for ever. No simulated time passes while no worker
     * runs: a timer that fires then locks time skipping until a worker completes its task, so env.sleep would wait in
     * real time (what hung the earlier attempt).
     */
    @Test
    void firingsContinueOnTimeAfterTheWorkerIsReplacedMidMonth() throws Exception {
        WorkerOptions noSticky = WorkerOptions.newBuilder().setStickyQueueScheduleToStartTimeout(Duration.ZERO).build();
        try (TestWorkflowEnvironment live = TestWorkflowEnvironment.newInstance()) {
            register(live.newWorker(TaskQueues.ORCHESTRATION, noSticky));
            live.start();
            WorkflowClient liveClient = live.getWorkflowClient();
            ScheduleDefinition def = new ScheduleDefinition(ScheduleDefinition.scheduleId(ScheduleKind.RETRAIN, MODEL, null), ScheduleKind.RETRAIN,
                    MODEL, null, "0 2 * * *", "Europe/Berlin", OverlapPolicy.SKIP).validated();
            SchedulerWorkflow wf = liveClient.newWorkflowStub(SchedulerWorkflow.class, WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(SchedulerWorkflow.workflowId(def.scheduleId())).build());
            WorkflowClient.start(wf::run, ScheduleState.initial(def, false, null));
            Instant begin = Instant.ofEpochMilli(live.currentTimeMillis());

            // Half a month, then the worker goes away between two firings (runs last 10 minutes after 02:00).
            live.sleep(Duration.ofDays(15).plusHours(6));
            int beforeRestart = RUNS.size();
            WorkerFactory original = live.getWorkerFactory();
            original.shutdown();
            original.awaitTermination(30, TimeUnit.SECONDS);
            assertThat(original.isTerminated()).isTrue();

            WorkerFactory replacement = WorkerFactory.newInstance(liveClient);
            register(replacement.newWorker(TaskQueues.ORCHESTRATION, noSticky));
            replacement.start();
            try {
                live.sleep(Duration.ofDays(31).minus(Duration.ofDays(15).plusHours(6)));
                // the new worker answers queries and signals from a cold cache: it rebuilt the schedule from history
                ScheduleInfo info = wf.describe();
                List<Instant> starts = starts().stream().map(SchedulerWorkflowTest::second).toList();
                Instant end = begin.plus(Duration.ofDays(31));
                List<Instant> expected = new ArrayList<>();
                CronExpression cron = CronExpression.parse("0 2 * * *");
                for (Instant t = cron.next(begin, BERLIN); t.isBefore(end.minus(Duration.ofMinutes(10))); t = cron.next(t, BERLIN)) {
                    expected.add(t);
                }
                assertThat(beforeRestart).isBetween(14, 16);
                assertThat(RUNS.size()).as("firings after the restart were run by the new worker").isGreaterThan(beforeRestart + 13);
                // Each firing on its minute, none lost or doubled. Workflow time also runs in real time while a task is
                // processed, so on a loaded machine a start may read a second or two after the minute.
                assertThat(starts).hasSameSizeAs(expected);
                for (int i = 0; i < expected.size(); i++) {
                    assertThat(Duration.between(expected.get(i), starts.get(i))).as("firing %d at %s", i, expected.get(i))
                            .isBetween(Duration.ZERO, Duration.ofSeconds(10));
                }
                assertThat(info.fired()).isEqualTo(RUNS.size());
                assertThat(info.skipped()).isZero();
                assertNoOverlap();
                wf.pause("after the restart");
                live.sleep(Duration.ofDays(2));
                assertThat(RUNS).hasSize(expected.size());
                assertThat(wf.describe().paused()).isTrue();
            } finally {
                replacement.shutdownNow();
                replacement.awaitTermination(10, TimeUnit.SECONDS);
            }
        }
    }
}
