package io.trellis.workflows.retrain;

import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.RetrainOverrides;
import io.trellis.workflows.ActivityPolicies;
import io.trellis.workflows.Failures;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.ModelDefinition;
import io.trellis.workflows.activities.RegisterRequest;
import io.trellis.workflows.activities.RegisteredVersion;
import io.trellis.workflows.activities.RegistryActivities;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.RunOutcome;
import io.trellis.workflows.activities.RunStart;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import io.trellis.workflows.monitor.DriftActivities;
import io.trellis.workflows.monitor.MonitorActivities;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.budget.BudgetActivities;
import io.trellis.workflows.budget.BudgetRequest;
import io.trellis.workflows.budget.BudgetVerdict;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.ApprovalReceipt;
import io.trellis.workflows.promotion.Verdict;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

public class RetrainWorkflowImpl implements RetrainWorkflow {
    /** New versions land here as candidates; promotion to the later environments is the promotion lifecycle's job. */
    static final String FIRST_ENVIRONMENT = "dev";
    /** Change id of the retrain overrides (data window, hyperparameters) passed to the registry and Spark steps. */
    static final String OVERRIDES_CHANGE = "retrain-overrides";
    /** Workflow.getVersion change id: a version that passed its gates gets its monitoring reference profile at once. */
    static final String REFERENCE_PROFILE_CHANGE = "reference-profile-at-training";

    private final RegistryActivities registry = Workflow.newActivityStub(RegistryActivities.class,
            ActivityPolicies.registry(Duration.ofSeconds(30)));
    private final SparkActivities snapshotSpark = Workflow.newActivityStub(SparkActivities.class,
            ActivityPolicies.spark(Duration.ofMinutes(30)));
    private final SparkActivities featureSpark = Workflow.newActivityStub(SparkActivities.class,
            ActivityPolicies.spark(Duration.ofHours(1)));
    private final SparkActivities trainSpark = Workflow.newActivityStub(SparkActivities.class,
            ActivityPolicies.spark(Duration.ofHours(2)));
    private final SparkActivities evaluateSpark = Workflow.newActivityStub(SparkActivities.class,
            ActivityPolicies.spark(Duration.ofHours(1)));
    // The reference profile is one quantile job and one counting pass over the training snapshot: shorter than training.
    private final DriftActivities referenceSpark = Workflow.newActivityStub(DriftActivities.class,
            ActivityPolicies.spark(Duration.ofHours(1)));
    private final MonitorActivities referenceStore = Workflow.newActivityStub(MonitorActivities.class,
            ActivityPolicies.registry(Duration.ofMinutes(2)));

    private final BudgetActivities budgets = Workflow.newActivityStub(BudgetActivities.class,
            ActivityPolicies.registry(Duration.ofSeconds(30)));

    /** Change id of the budget gate between snapshot and features (histories from before it replay without it). */
    static final String BUDGET_GATE_CHANGE = "budget-gate";
    /** The label of the budget gate in a failed run's record. */
    static final String BUDGET_GATE = "budget gate";

    private String runKey;
    private BudgetRequest budgetRequest;
    private boolean awaitingBudget;
    private ApprovalDecision budgetDecision;
    private String modelName;
    private RetrainStep step = RetrainStep.START_RUN;
    private RunStatus status = RunStatus.RUNNING;
    private String detail = "starting";

    @Override
    public RetrainProgress progress() {
        return new RetrainProgress(runKey, modelName, step, step.number(), RetrainStep.total(), status, detail);
    }

    @Override
    public RetrainResult run(RetrainRequest request) {
        runKey = Workflow.getInfo().getWorkflowId();
        modelName = request.modelName();
        String actor = request.triggeredBy();
        // Histories recorded before this change have no marker: they replay with no overrides, exactly as they ran.
        RetrainOverrides overrides = Workflow.getVersion(OVERRIDES_CHANGE, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION
                || request.overrides() == null || request.overrides().noOverrides() ? null : request.overrides();

        ModelDefinition model;
        try {
            model = registry.startRun(new RunStart(runKey, Workflow.getInfo().getRunId(), request.modelName(),
                    actor, request.reason(), overrides));
        } catch (ActivityFailure f) {
            // startRun records its own audit row (the run row may not exist: unknown model).
            status = RunStatus.FAILED;
            detail = Failures.message(f);
            throw Failures.asWorkflowFailure(f);
        }

        SnapshotResult snapshot = step(RetrainStep.SNAPSHOT_AND_VALIDATE, actor,
                () -> snapshotSpark.snapshotAndValidate(new SnapshotRequest(runKey, model.spec(), overrides)));
        step(RetrainStep.SNAPSHOT_AND_VALIDATE, actor, () -> {
            registry.recordSnapshot(runKey, snapshot);
            return null;
        });
        if (!snapshot.passed()) {
            String report = validationReport(snapshot);
            finish(RunStatus.VALIDATION_FAILED, RetrainStep.SNAPSHOT_AND_VALIDATE, report, actor);
            throw ApplicationFailure.newNonRetryableFailure(report, ErrorCode.DATA_VALIDATION_FAILED.name());
        }

        if (Workflow.getVersion(BUDGET_GATE_CHANGE, Workflow.DEFAULT_VERSION, 1) >= 1 && model.spec().budget() != null) {
            budgetGate(model, snapshot, actor);
        }

        FeatureResult features = step(RetrainStep.BUILD_FEATURES, actor,
                () -> featureSpark.buildFeatures(new FeatureRequest(runKey, model.spec(), snapshot.source(), overrides)));
        step(RetrainStep.BUILD_FEATURES, actor, () -> {
            registry.recordFeatures(runKey, features);
            return null;
        });

        TrainResult trained = step(RetrainStep.TRAIN, actor,
                () -> trainSpark.train(new TrainRequest(runKey, overrides == null ? model.spec() : overrides.applyTo(model.spec()),
                        features.table())));

        EvaluationResult evaluation = step(RetrainStep.EVALUATE, actor,
                () -> evaluateSpark.evaluate(new EvaluateRequest(runKey, model.spec(), features.table(),
                        trained.artifact(), model.champion())));

        enter(RetrainStep.CHECK_GATES);
        List<GateResult> gates = Gates.evaluate(model.spec(), evaluation.candidate(),
                evaluation.championVersion(), evaluation.champion());
        boolean gatesPassed = Gates.allPassed(gates);

        RegisteredVersion version = step(RetrainStep.REGISTER, actor, () -> registry.registerModelVersion(
                new RegisterRequest(runKey, modelName, trained, evaluation, gates, gatesPassed, actor)));

        String environment = null;
        RunStatus outcome;
        String message;
        if (gatesPassed) {
            step(RetrainStep.MARK_CANDIDATE, actor, () -> {
                registry.markCandidate(runKey, modelName, version.version(), FIRST_ENVIRONMENT, actor);
                return null;
            });
            environment = FIRST_ENVIRONMENT;
            // Histories recorded before this change have no marker and replay without the step.
            if (Workflow.getVersion(REFERENCE_PROFILE_CHANGE, Workflow.DEFAULT_VERSION, 1) == 1) {
                storeReferenceProfile(model, snapshot.source(), version.version(), trained);
            }
            outcome = RunStatus.SUCCEEDED;
            message = "version " + version.version() + " registered and marked candidate in " + FIRST_ENVIRONMENT;
        } else {
            outcome = RunStatus.GATE_FAILED;
            message = "version " + version.version() + " registered as REJECTED; failed gates: "
                    + gates.stream().filter(g -> !g.passed()).map(GateResult::detail).collect(Collectors.joining("; "));
        }
        finish(outcome, null, message, actor);
        return new RetrainResult(runKey, modelName, outcome, version.version(), environment,
                evaluation.candidate(), evaluation.championVersion(), evaluation.champion(), evaluation.championNote(),
                snapshot.source(), features.table(), gates, message);
    }

    /**
     * Bins the training snapshot and stores the profile with the new version, so monitoring compares with bins fixed at
     * training time. Best effort: the version is registered and usable either way, and a failure here (for example a
     * feature that is all null in the snapshot's schema) only means monitoring computes the profile on its first run.
     */
    private void storeReferenceProfile(ModelDefinition model, DatasetRef snapshot, int version, TrainResult trained) {
        detail = "computing the monitoring reference profile";
        try {
            String profile = referenceSpark.referenceProfile(model.spec(), snapshot,
                    new ChampionRef(version, FIRST_ENVIRONMENT, trained.artifact()));
            referenceStore.storeReference(modelName, version, snapshot, profile);
        } catch (ActivityFailure f) {
            Workflow.getLogger(RetrainWorkflowImpl.class).warn("reference profile of {} v{} not stored ({}); monitoring will"
                    + " compute it on its first run", modelName, version, Failures.message(f));
        }
    }

    /**
     * Before the heavy steps: estimate the run's cost; over budget, fail or wait for an approver, by the budget's policy.
     * Waits as long as a promotion's approval may (the spec's approval timeout), then fails.
     */
    private void budgetGate(ModelDefinition model, SnapshotResult snapshot, String actor) {
        ModelSpec.Budget budget = model.spec().budget();
        budgetRequest = new BudgetRequest(runKey, modelName, budget, snapshot.source().rowCount(), actor);
        BudgetVerdict verdict = step(RetrainStep.SNAPSHOT_AND_VALIDATE, actor, () -> budgets.assess(budgetRequest));
        if (verdict.withinBudget()) {
            return;
        }
        String refusal;
        if (budget.onExceed() == ModelSpec.BudgetPolicy.FAIL) {
            refusal = verdict.message() + "; the budget's policy is to fail (onExceed: fail). Raise the budget in the spec, or"
                    + " set onExceed: approval to let an approver decide.";
            budgets.recordOutcome(budgetRequest, "budget.failed", refusal);
        } else {
            awaitingBudget = true;
            detail = "awaiting budget approval (four-eyes: not " + actor + "): " + verdict.message();
            Duration timeout = Duration.ofSeconds(model.spec().promotion().approvalTimeoutSeconds());
            boolean decided = Workflow.await(timeout, () -> budgetDecision != null);
            awaitingBudget = false;
            if (decided && budgetDecision.verdict() == Verdict.APPROVE) {
                detail = "budget approved by " + budgetDecision.approver();
                return;
            }
            if (decided) {
                refusal = verdict.message() + "; " + budgetDecision.approver() + " rejected the run: " + budgetDecision.reason();
            } else {
                refusal = verdict.message() + "; no approver decided within " + timeout;
                budgets.recordOutcome(budgetRequest, "budget.expired", refusal);
            }
        }
        registry.finishRun(new RunOutcome(runKey, modelName, RunStatus.FAILED, BUDGET_GATE, refusal, actor));
        status = RunStatus.FAILED;
        detail = refusal;
        throw ApplicationFailure.newNonRetryableFailure(refusal, ErrorCode.BUDGET_EXCEEDED.name());
    }

    @Override
    public void validateDecideBudget(ApprovalDecision d) {
        if (d == null || d.approver() == null || d.approver().isBlank() || d.verdict() == null) {
            throw new IllegalArgumentException("a decision needs an approver and a verdict (APPROVE or REJECT)");
        }
        if (d.verdict() == Verdict.REJECT && (d.reason() == null || d.reason().isBlank())) {
            throw new IllegalArgumentException("a rejection needs a reason");
        }
        if (!awaitingBudget) {
            throw new IllegalStateException("run " + runKey + " is not waiting for a budget approval");
        }
    }

    @Override
    public ApprovalReceipt decideBudget(ApprovalDecision d) {
        // The activity refuses (and audits) an approver without the role, or the run's own trigger (four-eyes).
        budgets.decide(budgetRequest, d);
        if (budgetDecision == null) {
            budgetDecision = d;
        }
        return new ApprovalReceipt(runKey, budgetDecision.approver(), budgetDecision.verdict());
    }

    private void enter(RetrainStep next) {
        step = next;
        detail = next.label();
    }

    /** Runs one step; if it fails, closes the run as FAILED (audited) and fails the workflow with the step's message. */
    private <T> T step(RetrainStep s, String actor, Supplier<T> body) {
        enter(s);
        try {
            return body.get();
        } catch (ActivityFailure f) {
            finish(RunStatus.FAILED, s, s.label() + " failed: " + Failures.message(f), actor);
            throw Failures.asWorkflowFailure(f);
        }
    }

    private void finish(RunStatus outcome, RetrainStep failedStep, String message, String actor) {
        registry.finishRun(new RunOutcome(runKey, modelName, outcome,
                failedStep == null ? null : failedStep.label(), message, actor));
        status = outcome;
        step = outcome == RunStatus.SUCCEEDED || outcome == RunStatus.GATE_FAILED ? RetrainStep.DONE : step;
        detail = message;
    }


    static String validationReport(SnapshotResult snapshot) {
        return "data validation failed on " + snapshot.source().tablePath() + " version " + snapshot.source().version()
                + " (" + snapshot.source().rowCount() + " rows): "
                + snapshot.failures().stream().map(RuleResult::describe).collect(Collectors.joining("; "));
    }
}
