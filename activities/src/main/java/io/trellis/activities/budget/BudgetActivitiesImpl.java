package io.trellis.activities.budget;

import io.trellis.activities.ActivityErrors;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.AuditQuery;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.PrincipalRecord;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.metadata.ResourceUsageStore;
import io.trellis.metadata.ResourceUsageStore.RunBasis;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.budget.BudgetActivities;
import io.trellis.workflows.budget.BudgetRequest;
import io.trellis.workflows.budget.BudgetVerdict;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.Verdict;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Budget checks against recorded usage (PostgreSQL) priced by the configured price sheet. A run's estimate is the
 * model's recent cost per source row (its last {@value #BASIS_RUNS} finished runs with recorded usage) times the rows
 * of the snapshot the run is about to train on; the month is the calendar month in UTC.
 */
public final class BudgetActivitiesImpl implements BudgetActivities {
    static final int BASIS_RUNS = 5;

    private final Registry registry;
    private final ResourceUsageStore usage;
    private final PriceSheet prices;
    private final Clock clock;

    public BudgetActivitiesImpl(Registry registry, ResourceUsageStore usage, PriceSheet prices, Clock clock) {
        this.registry = registry;
        this.usage = usage;
        this.prices = prices;
        this.clock = clock;
    }

    @Override
    public BudgetVerdict assess(BudgetRequest r) {
        return call(() -> {
            ModelSpec.Budget budget = r.budget();
            List<RunBasis> basis = usage.recentRuns(r.modelName(), BASIS_RUNS);
            double basisCost = basis.stream().mapToDouble(b -> prices.cost(b.usage())).sum();
            long basisRows = basis.stream().mapToLong(RunBasis::sourceRows).sum();
            Double estimate = basisRows == 0 ? null : basisCost / basisRows * r.sourceRows();
            Instant monthStart = YearMonth.now(clock.withZone(ZoneOffset.UTC)).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
            double monthSpent = prices.cost(usage.modelSince(r.modelName(), monthStart));
            double next = estimate == null ? 0 : estimate;

            String over = null;
            if (budget.perRun() != null && estimate != null && estimate > budget.perRun()) {
                over = "the per-run budget of " + money(budget.perRun());
            } else if (budget.perMonth() != null && monthSpent + next > budget.perMonth()) {
                over = "the monthly budget of " + money(budget.perMonth()) + " (" + money(monthSpent) + " spent this month)";
            }
            String estimateText = estimate == null
                    ? "no estimate (no earlier run of " + r.modelName() + " with recorded usage)"
                    : "estimated cost " + money(estimate) + " (" + r.sourceRows() + " rows at " + money(basisCost / basisRows * 1_000_000)
                            + " per million rows over the last " + basis.size() + " run(s))";
            String message = over == null ? estimateText + " is within budget" : estimateText + " is over " + over;
            BudgetVerdict verdict = new BudgetVerdict(estimate, monthSpent, prices.currency(), over == null, message);
            if (!alreadyAudited(r.runKey(), "budget.assessed")) {
                Map<String, Object> details = details(r);
                details.put("estimatedCost", estimate);
                details.put("monthSpent", monthSpent);
                details.put("withinBudget", over == null);
                details.put("basisRuns", basis.stream().map(RunBasis::runKey).toList());
                registry.recordAudit(r.triggeredBy(), "budget.assessed", over == null ? AuditOutcome.SUCCESS : AuditOutcome.REJECTED,
                        r.modelName(), null, r.runKey(), message, details);
            }
            return verdict;
        });
    }

    @Override
    public void decide(BudgetRequest r, ApprovalDecision d) {
        call(() -> {
            String action = d.verdict() == Verdict.APPROVE ? "budget.approved" : "budget.rejected";
            PrincipalRecord principal = registry.principal(d.approver()).orElse(null);
            String refusal = null;
            if (principal == null || !principal.hasRole(PrincipalRole.APPROVER)) {
                refusal = d.approver() + " may not decide on the budget of run " + r.runKey() + ": "
                        + (principal == null ? d.approver() + " is not a known principal" : d.approver() + " lacks the "
                                + PrincipalRole.APPROVER.dbValue() + " role")
                        + ". Ask an approver to decide, or an admin to grant the role.";
            } else if (d.approver().equals(r.triggeredBy())) {
                refusal = d.approver() + " may not decide on the budget of run " + r.runKey() + " (four-eyes rule): "
                        + d.approver() + " triggered the run. Another approver must decide.";
            }
            Map<String, Object> details = details(r);
            details.put("decision", d.verdict().name());
            details.put("reason", d.reason());
            if (refusal != null) {
                registry.recordAudit(d.approver(), action, AuditOutcome.REJECTED, r.modelName(), null, r.runKey(), refusal, details);
                throw new TrellisException(ErrorCode.FORBIDDEN, refusal);
            }
            registry.recordAudit(d.approver(), action, AuditOutcome.SUCCESS, r.modelName(), null, r.runKey(),
                    d.approver() + " " + (d.verdict() == Verdict.APPROVE ? "approved" : "rejected") + " run " + r.runKey()
                            + " over its budget" + (d.reason() == null || d.reason().isBlank() ? "" : ": " + d.reason()), details);
            return null;
        });
    }

    @Override
    public void recordOutcome(BudgetRequest r, String action, String message) {
        call(() -> {
            if (!alreadyAudited(r.runKey(), action)) {
                registry.recordAudit("trellis", action, AuditOutcome.FAILURE, r.modelName(), null, r.runKey(), message, details(r));
            }
            return null;
        });
    }

    /** A retried activity must not write its audit row twice. */
    private boolean alreadyAudited(String runKey, String action) {
        return registry.auditTrail(new AuditQuery(null, runKey, 200)).stream().anyMatch(e -> e.action().equals(action));
    }

    private static Map<String, Object> details(BudgetRequest r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("perRun", r.budget().perRun());
        m.put("perMonth", r.budget().perMonth());
        m.put("onExceed", r.budget().onExceed().name());
        m.put("sourceRows", r.sourceRows());
        return m;
    }

    private String money(double amount) {
        return String.format(Locale.ROOT, "%.2f %s", amount, prices.currency());
    }

    private static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw ActivityErrors.translate(e);
        }
    }
}
