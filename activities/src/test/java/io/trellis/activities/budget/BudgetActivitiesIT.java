package io.trellis.activities.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.DatasetKind;
import io.trellis.metadata.MetadataStore;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.metadata.RunStatus;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.budget.BudgetRequest;
import io.trellis.workflows.budget.BudgetVerdict;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.Verdict;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Budget estimates and decisions against real recorded usage and principals in PostgreSQL; each test its own model. */
class BudgetActivitiesIT {
    /** One core-hour costs 1 EUR, nothing else is priced: a run's cost is its executor hours. */
    private static final PriceSheet PRICES = new PriceSheet("EUR", 1.0, 0, 0, 0);
    private static MetadataStore store;
    private static Registry registry;
    private static BudgetActivitiesImpl budgets;

    @BeforeAll
    static void open() {
        store = MetadataStore.open(TestingPostgreSqlServer.createDatabase(BudgetActivitiesIT.class));
        registry = store.registry();
        budgets = new BudgetActivitiesImpl(registry, store.resourceUsage(), PRICES, Clock.systemUTC());
        registry.grantRoles("bob", Set.of(PrincipalRole.APPROVER), "admin");
        registry.grantRoles("alice", Set.of(PrincipalRole.APPROVER, PrincipalRole.ML_ENGINEER), "admin");
        registry.grantRoles("vera", Set.of(PrincipalRole.VIEWER), "admin");
    }

    @AfterAll
    static void close() {
        store.close();
    }

    /** A finished run of {@code model} that trained on {@code rows} rows and used {@code coreHours}. */
    private static void pastRun(String model, String label, long rows, double coreHours) {
        String run = "retrain/" + model + "/" + label;
        registry.startRun(run, "wf", model, "alice", null, "sha", "c1");
        long dataset = registry.recordDatasetVersion("/lake/raw/" + model, rows, rows, DatasetKind.RAW, null).id();
        registry.recordValidation(run, dataset, true, Map.of());
        long ms = (long) (coreHours * 3_600_000);
        store.resourceUsage().record(new ResourceUsageRecord(run, "r-" + run, "1", "SparkTrain", 1, "train", model, "dev",
                UsageOutcome.SUCCEEDED, run + "/g", 1, 1, 0, ms, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, null));
        registry.finishRun(run, RunStatus.SUCCEEDED, null, null, "worker");
    }

    private static List<AuditEntry> audit(String runKey) {
        return registry.auditTrail(new AuditQuery(null, runKey, 100));
    }

    @Test
    void theEstimateScalesTheRecentCostPerRowToTheSnapshotAndIsAudited() {
        registry.applyModelSpec("b-est", "name: b-est", "sha", null, "alice");
        pastRun("b-est", "1", 1000, 1.0);
        pastRun("b-est", "2", 3000, 3.0);
        BudgetRequest request = new BudgetRequest("retrain/b-est/3", "b-est", new ModelSpec.Budget(5.0, null, ModelSpec.BudgetPolicy.FAIL, null),
                8000, "alice");

        BudgetVerdict verdict = budgets.assess(request);
        assertThat(verdict.estimatedCost()).isCloseTo(8.0, within(1e-9)); // 4 EUR for 4000 rows, then 8000 rows
        assertThat(verdict.withinBudget()).isFalse();
        assertThat(verdict.message()).contains("estimated cost 8.00 EUR").contains("over the per-run budget of 5.00 EUR");
        assertThat(verdict.monthSpent()).isCloseTo(4.0, within(1e-9));
        budgets.assess(request); // a retried activity audits once
        assertThat(audit("retrain/b-est/3")).singleElement().satisfies(e -> {
            assertThat(e.action()).isEqualTo("budget.assessed");
            assertThat(e.outcome()).isEqualTo(AuditOutcome.REJECTED);
            assertThat(e.details()).containsEntry("withinBudget", false);
        });

        BudgetVerdict small = budgets.assess(new BudgetRequest("retrain/b-est/4", "b-est", request.budget(), 2000, "alice"));
        assertThat(small.withinBudget()).isTrue();
        assertThat(small.estimatedCost()).isCloseTo(2.0, within(1e-9));
    }

    @Test
    void theMonthlyBudgetCountsWhatTheMonthAlreadySpent() {
        registry.applyModelSpec("b-month", "name: b-month", "sha", null, "alice");
        pastRun("b-month", "1", 1000, 6.0);
        BudgetVerdict verdict = budgets.assess(new BudgetRequest("retrain/b-month/2", "b-month",
                new ModelSpec.Budget(null, 10.0, ModelSpec.BudgetPolicy.APPROVAL, null), 1000, "alice"));
        assertThat(verdict.withinBudget()).isFalse();
        assertThat(verdict.message()).contains("over the monthly budget of 10.00 EUR (6.00 EUR spent this month)");
    }

    @Test
    void withoutHistoryThereIsNoEstimateAndTheRunPasses() {
        registry.applyModelSpec("b-new", "name: b-new", "sha", null, "alice");
        BudgetVerdict verdict = budgets.assess(new BudgetRequest("retrain/b-new/1", "b-new",
                new ModelSpec.Budget(1.0, null, ModelSpec.BudgetPolicy.FAIL, null), 1000, "alice"));
        assertThat(verdict.estimatedCost()).isNull();
        assertThat(verdict.withinBudget()).isTrue();
        assertThat(verdict.message()).contains("no estimate");
    }

    @Test
    void onlyAnotherApproverMayDecideAndEveryAttemptIsAudited() {
        registry.applyModelSpec("b-dec", "name: b-dec", "sha", null, "alice");
        BudgetRequest request = new BudgetRequest("retrain/b-dec/1", "b-dec", new ModelSpec.Budget(1.0, null, ModelSpec.BudgetPolicy.APPROVAL, null),
                10, "alice");

        assertThatThrownBy(() -> budgets.decide(request, new ApprovalDecision("vera", Verdict.APPROVE, null)))
                .isInstanceOfSatisfying(ApplicationFailure.class, f -> assertThat(f.getType()).isEqualTo(ErrorCode.FORBIDDEN.name()))
                .hasMessageContaining("vera lacks the approver role");
        assertThatThrownBy(() -> budgets.decide(request, new ApprovalDecision("alice", Verdict.APPROVE, null)))
                .hasMessageContaining("(four-eyes rule): alice triggered the run");
        budgets.decide(request, new ApprovalDecision("bob", Verdict.APPROVE, "one-off backfill"));

        assertThat(audit("retrain/b-dec/1")).extracting(AuditEntry::actor, AuditEntry::action, AuditEntry::outcome).containsExactly(
                org.assertj.core.groups.Tuple.tuple("vera", "budget.approved", AuditOutcome.REJECTED),
                org.assertj.core.groups.Tuple.tuple("alice", "budget.approved", AuditOutcome.REJECTED),
                org.assertj.core.groups.Tuple.tuple("bob", "budget.approved", AuditOutcome.SUCCESS));
        budgets.recordOutcome(request, "budget.expired", "nobody decided");
        budgets.recordOutcome(request, "budget.expired", "nobody decided");
        assertThat(audit("retrain/b-dec/1")).filteredOn(e -> e.action().equals("budget.expired")).hasSize(1);
    }
}
