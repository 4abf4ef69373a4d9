package io.trellis.workflows.promotion;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestEnvironmentOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.workflows.TaskQueues;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Overload: many promotions waiting for approval at once, all held by one worker (one orchestration worker and
 * one Spark worker in this JVM, real time, the SDK's server in-process). Prints the JVM's thread count and heap
 * while they wait, then approves every one and checks that all deploy. {@code -Dtrellis.overload.promotions=500}
 * is the long variant that {@code bench/overload} runs; the suite runs 100.
 */
class ApprovalBacklogTest {
    private static final int PROMOTIONS = Integer.getInteger("trellis.overload.promotions", 100);

    @Test
    void oneWorkerHoldsAHundredsOfWaitingPromotionsAndEveryApprovalLands() throws Exception {
        TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance(
                TestEnvironmentOptions.newBuilder().setUseTimeskipping(false).build());
        try {
            Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
            Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
            orchestration.registerWorkflowImplementationTypes(PromotionWorkflowImpl.class);
            TestingPromotionActivities.Registry registry = new TestingPromotionActivities.Registry();
            orchestration.registerActivitiesImplementations(registry);
            sparkWorker.registerActivitiesImplementations(new TestingPromotionActivities.Spark(), new TestingPromotionActivities.Scoring());
            env.start();
            WorkflowClient client = env.getWorkflowClient();
            Footprint before = Footprint.now();

            long startedAt = System.nanoTime();
            List<PromotionWorkflow> waiting = new ArrayList<>();
            for (int i = 0; i < PROMOTIONS; i++) {
                // One model per promotion: the registry allows one active promotion per model and environment.
                String model = "model-" + i;
                PromotionWorkflow wf = client.newWorkflowStub(PromotionWorkflow.class, WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.ORCHESTRATION)
                        .setWorkflowId(PromotionWorkflow.workflowId(model, 1, "production", "overload"))
                        .build());
                WorkflowClient.start(wf::run, new PromotionRequest(model, 1, "production", "carol", "overload"));
                waiting.add(wf);
            }
            for (PromotionWorkflow wf : waiting) {
                awaitStatus(wf, PromotionStatus.AWAITING_APPROVAL);
            }
            double toWaitSeconds = (System.nanoTime() - startedAt) / 1e9;
            Footprint held = Footprint.now();

            long approvingAt = System.nanoTime();
            for (PromotionWorkflow wf : waiting) {
                wf.decide(new ApprovalDecision("bob", Verdict.APPROVE, "overload"));
            }
            for (PromotionWorkflow wf : waiting) {
                PromotionResult result = WorkflowStub.fromTyped(wf).getResult(2, TimeUnit.MINUTES, PromotionResult.class);
                assertThat(result.status()).isEqualTo(PromotionStatus.DEPLOYED);
            }
            double toApproveSeconds = (System.nanoTime() - approvingAt) / 1e9;
            assertThat(registry.decisions).hasSize(PROMOTIONS);

            System.out.printf("%d promotions waiting for approval in one worker: threads %d -> %d, heap after GC %.1f -> %.1f MiB;"
                            + " all waiting after %.1f s, all deployed %.1f s after the approvals began%n",
                    PROMOTIONS, before.threads, held.threads, before.heapMiB, held.heapMiB, toWaitSeconds, toApproveSeconds);
            System.out.println("RESULT approval_backlog_promotions=" + PROMOTIONS);
            System.out.println("RESULT approval_backlog_threads=" + held.threads);
            System.out.println("RESULT approval_backlog_threads_added=" + (held.threads - before.threads));
            System.out.printf("RESULT approval_backlog_heap_mib=%.1f%n", held.heapMiB);
            System.out.printf("RESULT approval_backlog_heap_added_kib_per_promotion=%.1f%n",
                    (held.heapMiB - before.heapMiB) * 1024 / PROMOTIONS);
            System.out.printf("RESULT approval_backlog_seconds_to_deploy_all=%.2f%n", toApproveSeconds);
        } finally {
            env.close();
        }
    }

    private static void awaitStatus(PromotionWorkflow wf, PromotionStatus wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        PromotionStatus last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = wf.progress().status();
                if (last == wanted) {
                    return;
                }
            } catch (RuntimeException notYetStarted) {
                // the first workflow task may not have run yet
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        throw new AssertionError("promotion did not reach " + wanted + " within 2 minutes; last status " + last);
    }

    /** Live threads and heap used after a full GC. */
    private record Footprint(int threads, double heapMiB) {
        static Footprint now() {
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            System.gc();
            return new Footprint(ManagementFactory.getThreadMXBean().getThreadCount(),
                    memory.getHeapMemoryUsage().getUsed() / (1024.0 * 1024.0));
        }
    }
}
