package io.trellis.workflows.retrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.activities.ModelDefinition;
import io.trellis.workflows.budget.BudgetActivities;
import io.trellis.workflows.budget.BudgetRequest;
import io.trellis.workflows.budget.BudgetVerdict;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.Verdict;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The budget gate between snapshot and features, both policies, with time skipping (the approval wait is days long). */
class BudgetGateTest {
    /** Answers the estimate a test sets; refuses the run's own trigger like the real activity (four-eyes). */
    static final class Budgets implements BudgetActivities {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile BudgetVerdict verdict;

        @Override
        public BudgetVerdict assess(BudgetRequest request) {
            calls.add("assess:" + request.sourceRows());
            return verdict;
        }

        @Override
        public void decide(BudgetRequest request, ApprovalDecision decision) {
            if (decision.approver().equals(request.triggeredBy())) {
                calls.add("refused:" + decision.approver());
                throw ApplicationFailure.newNonRetryableFailure(decision.approver() + " triggered this run (four-eyes rule)",
                        ErrorCode.FORBIDDEN.name());
            }
            calls.add("decide:" + decision.approver() + ":" + decision.verdict());
        }

        @Override
        public void recordOutcome(BudgetRequest request, String action, String message) {
            calls.add(action);
        }
    }

    private static final BudgetVerdict OVER = new BudgetVerdict(12.5, 30.0, "USD", false,
            "estimated cost 12.50 USD is over the per-run budget of 10.00 USD");

    private TestWorkflowEnvironment env;
    private WorkflowClient client;
    private TestingRetrainActivities.Registry registry;
    private TestingRetrainActivities.Spark spark;
    private Budgets budgets;

    @BeforeEach
    void setUp() {
        env = TestWorkflowEnvironment.newInstance();
        Worker orchestration = env.newWorker(TaskQueues.ORCHESTRATION);
        Worker sparkWorker = env.newWorker(TaskQueues.SPARK);
        orchestration.registerWorkflowImplementationTypes(RetrainWorkflowImpl.class);
        registry = new TestingRetrainActivities.Registry();
        spark = new TestingRetrainActivities.Spark();
        budgets = new Budgets();
        orchestration.registerActivitiesImplementations(registry, budgets);
        sparkWorker.registerActivitiesImplementations(spark);
        env.start();
        client = env.getWorkflowClient();
    }

    @AfterEach
    void tearDown() {
        env.close();
    }

    private void budget(String yaml) {
        var spec = ModelSpecLoader.parse(SampleModels.customerChurnYaml() + "\nbudget: " + yaml + "\n");
        registry.onStart = start -> new ModelDefinition(start.modelName(), spec, "sha", null);
    }

    private RetrainWorkflow newRun(String label) {
        return client.newWorkflowStub(RetrainWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(RetrainWorkflow.workflowId("customer-churn", label))
                .build());
    }

    private static RetrainRequest byAlice() {
        return new RetrainRequest("customer-churn", "alice", "test");
    }

    /** Starts the run and waits (polling its query, in real time) until it waits at the budget gate. */
    private RetrainWorkflow startAndAwaitGate(String label) {
        RetrainWorkflow run = newRun(label);
        WorkflowClient.start(run::run, byAlice());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!run.progress().detail().startsWith("awaiting budget approval")) {
            assertThat(System.nanoTime()).as("the run reaches the budget gate").isLessThan(deadline);
            Thread.onSpinWait();
        }
        return run;
    }

    private static ApplicationFailure failureOf(RetrainWorkflow run) {
        WorkflowStub stub = WorkflowStub.fromTyped(run);
        try {
            stub.getResult(RetrainResult.class);
        } catch (WorkflowFailedException e) {
            return (ApplicationFailure) e.getCause();
        }
        throw new AssertionError("the run should have failed");
    }

    @Test
    void withinBudgetTheRunGoesOnWithoutWaiting() {
        budget("{perRun: 10, onExceed: fail}");
        budgets.verdict = new BudgetVerdict(2.0, 5.0, "USD", true, "estimated cost 2.00 USD is within budget");

        RetrainResult result = newRun("within").run(byAlice());

        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(budgets.calls).containsExactly("assess:5000");
        assertThat(spark.calls).containsExactly("snapshot", "features", "train", "evaluate");
    }

    @Test
    void noBudgetNoCheck() {
        RetrainResult result = newRun("no-budget").run(byAlice());
        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(budgets.calls).isEmpty();
    }

    @Test
    void overBudgetWithTheFailPolicyFailsBeforeTheHeavyStepsWithAClearMessage() {
        budget("{perRun: 10, onExceed: fail}");
        budgets.verdict = OVER;
        RetrainWorkflow run = newRun("fail-policy");

        assertThatThrownBy(() -> run.run(byAlice())).isInstanceOf(WorkflowFailedException.class)
                .cause().isInstanceOfSatisfying(ApplicationFailure.class, f -> {
                    assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
                    assertThat(f.getOriginalMessage()).contains("estimated cost 12.50 USD is over the per-run budget of 10.00 USD")
                            .contains("onExceed: fail").contains("Raise the budget");
                });
        assertThat(spark.calls).containsExactly("snapshot");
        assertThat(budgets.calls).containsExactly("assess:5000", "budget.failed");
        assertThat(registry.outcomes).singleElement().satisfies(o -> {
            assertThat(o.status()).isEqualTo(RunStatus.FAILED);
            assertThat(o.failedStep()).isEqualTo("budget gate");
        });
    }

    @Test
    void overBudgetWithTheApprovalPolicyWaitsForAnotherApprover() throws Exception {
        budget("{perRun: 10, onExceed: approval}");
        budgets.verdict = OVER;
        RetrainWorkflow run = startAndAwaitGate("approved");
        assertThat(spark.calls).containsExactly("snapshot");

        // The run's own trigger may not approve it (four-eyes); the refusal leaves the run waiting.
        assertThatThrownBy(() -> run.decideBudget(new ApprovalDecision("alice", Verdict.APPROVE, null)))
                .isInstanceOf(WorkflowUpdateException.class);
        assertThat(run.progress().detail()).startsWith("awaiting budget approval");
        assertThat(run.decideBudget(new ApprovalDecision("bob", Verdict.APPROVE, null)).approver()).isEqualTo("bob");

        RetrainResult result = WorkflowStub.fromTyped(run).getResult(RetrainResult.class);
        assertThat(result.status()).isEqualTo(RunStatus.SUCCEEDED);
        assertThat(budgets.calls).containsExactly("assess:5000", "refused:alice", "decide:bob:APPROVE");
        assertThat(spark.calls).containsExactly("snapshot", "features", "train", "evaluate");
    }

    @Test
    void aRejectedBudgetFailsTheRunWithTheApproversReason() {
        budget("{perRun: 10}");
        budgets.verdict = OVER;
        RetrainWorkflow run = startAndAwaitGate("rejected");
        run.decideBudget(new ApprovalDecision("bob", Verdict.REJECT, "not this month"));

        ApplicationFailure f = failureOf(run);
        assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
        assertThat(f.getOriginalMessage()).contains("bob rejected the run: not this month");
        assertThat(spark.calls).containsExactly("snapshot");
        assertThat(budgets.calls).containsExactly("assess:5000", "decide:bob:REJECT");
    }

    @Test
    void noDecisionWithinTheApprovalTimeoutFailsTheRun() {
        budget("{perMonth: 40}");
        budgets.verdict = OVER;
        RetrainWorkflow run = startAndAwaitGate("expired");

        ApplicationFailure f = failureOf(run); // time skipping jumps over the 7-day wait
        assertThat(f.getType()).isEqualTo(ErrorCode.BUDGET_EXCEEDED.name());
        assertThat(f.getOriginalMessage()).contains("no approver decided within PT168H");
        assertThat(budgets.calls).containsExactly("assess:5000", "budget.expired");
        assertThatThrownBy(() -> run.decideBudget(new ApprovalDecision("bob", Verdict.APPROVE, null))).isInstanceOf(Exception.class);
    }
}
