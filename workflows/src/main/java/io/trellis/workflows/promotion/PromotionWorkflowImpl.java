package io.trellis.workflows.promotion;

import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import io.trellis.workflows.ActivityPolicies;
import io.trellis.workflows.Failures;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.retrain.GateResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

public class PromotionWorkflowImpl implements PromotionWorkflow {
    /** The actor recorded for what the system decides itself (an expiry). */
    static final String SYSTEM_ACTOR = "trellis";

    private final PromotionActivities registry = Workflow.newActivityStub(PromotionActivities.class,
            ActivityPolicies.registry(Duration.ofMinutes(2)));
    private final SparkActivities spark = Workflow.newActivityStub(SparkActivities.class,
            ActivityPolicies.spark(Duration.ofHours(1)));
    private final ScoringActivities scoring = Workflow.newActivityStub(ScoringActivities.class,
            ActivityPolicies.spark(Duration.ofHours(1)));

    private String promotionKey;
    private PromotionRequest request;
    private String stage;
    private PromotionStatus status = PromotionStatus.RUNNING;
    private final List<StageReport> stages = new ArrayList<>();
    private ApprovalDecision decision;
    private String detail = "opening";

    @Override
    public PromotionProgress progress() {
        return new PromotionProgress(promotionKey, request == null ? null : request.modelName(),
                request == null ? 0 : request.version(), request == null ? null : request.targetEnvironment(), stage, status,
                List.copyOf(stages), decision == null ? null : decision.approver(), detail);
    }

    @Override
    public PromotionResult run(PromotionRequest req) {
        request = req;
        promotionKey = Workflow.getInfo().getWorkflowId();
        PromotionContext ctx;
        try {
            ctx = registry.begin(promotionKey, req);
        } catch (ActivityFailure f) {
            // begin audits its own refusal; nothing was opened
            status = PromotionStatus.FAILED;
            detail = Failures.message(f);
            throw Failures.asWorkflowFailure(f);
        }
        String lastEnvironment = ctx.spec().environments().get(ctx.spec().environments().size() - 1);
        String liveIn = null;
        try {
            for (String env : ctx.stages()) {
                stage = env;
                detail = "checking gates for " + env;
                ArtifactCheck artifact = registry.verifyArtifact(ctx.artifact());
                ChampionRef champion = registry.liveVersion(ctx.modelName(), env);
                EvaluationResult evaluation = artifact.matches()
                        ? spark.evaluate(new EvaluateRequest(promotionKey, ctx.spec(), ctx.features(), ctx.artifact(), champion))
                        : null;
                List<GateResult> gates = StageGates.evaluate(ctx.spec(), env, ctx.dataValidationPassed(), artifact, evaluation);
                boolean passed = gates.stream().allMatch(GateResult::passed);

                ShadowResult shadow = null;
                if (passed && ctx.spec().promotion().shadowIn().contains(env)) {
                    detail = "shadow run in " + env;
                    shadow = scoring.shadowScore(new ShadowRequest(promotionKey, ctx.spec(), env, ctx.version(),
                            ctx.artifact(), registry.liveVersion(ctx.modelName(), lastEnvironment)));
                }
                StageReport report = new StageReport(env, evaluation == null ? null : evaluation.championVersion(), gates,
                        shadow, passed);
                registry.recordStage(promotionKey, report);
                stages.add(report);
                if (!passed) {
                    return finish(PromotionStatus.GATE_FAILED, liveIn, "gates failed in " + env + ": "
                            + gates.stream().filter(g -> !g.passed()).map(GateResult::detail).collect(Collectors.joining("; ")),
                            req.requestedBy());
                }

                String actor = req.requestedBy();
                if (ctx.spec().promotion().approvalRequiredIn().contains(env)) {
                    status = PromotionStatus.AWAITING_APPROVAL;
                    detail = "awaiting approval for " + env + " (four-eyes: not " + ctx.trainedBy() + ")";
                    registry.awaitApproval(promotionKey);
                    Duration timeout = Duration.ofSeconds(ctx.spec().promotion().approvalTimeoutSeconds());
                    boolean decided = Workflow.await(timeout, () -> decision != null);
                    if (!decided) {
                        return finish(PromotionStatus.EXPIRED, liveIn, "no approval decision within " + timeout
                                + "; the promotion expired", SYSTEM_ACTOR);
                    }
                    if (decision.verdict() == Verdict.REJECT) {
                        return finish(PromotionStatus.REJECTED, liveIn, "rejected by " + decision.approver() + ": "
                                + decision.reason(), decision.approver());
                    }
                    status = PromotionStatus.RUNNING;
                    actor = decision.approver();
                }
                detail = "deploying to " + env;
                registry.deploy(promotionKey, env, actor);
                liveIn = env;
            }
            return finish(PromotionStatus.DEPLOYED, liveIn, ctx.modelName() + " v" + ctx.version() + " is live in " + liveIn,
                    decision == null ? req.requestedBy() : decision.approver());
        } catch (ActivityFailure f) {
            finish(PromotionStatus.FAILED, liveIn, (stage == null ? "" : stage + ": ") + Failures.message(f), req.requestedBy());
            throw Failures.asWorkflowFailure(f);
        }
    }

    @Override
    public void validateDecide(ApprovalDecision d) {
        // Only the request's shape is checked here (rejected updates leave no history); whether this approver
        // may decide now is the registry's call in the handler, so every refusal is audited.
        if (d == null || d.approver() == null || d.approver().isBlank() || d.verdict() == null) {
            throw new IllegalArgumentException("a decision needs an approver and a verdict (APPROVE or REJECT)");
        }
        if (d.verdict() == Verdict.REJECT && (d.reason() == null || d.reason().isBlank())) {
            throw new IllegalArgumentException("a rejection needs a reason");
        }
    }

    @Override
    public ApprovalReceipt decide(ApprovalDecision d) {
        // The registry refuses (and audits) a decision this approver may not make now: wrong role, four-eyes,
        // nothing awaiting approval, already decided. The update then fails with that reason.
        registry.recordDecision(promotionKey, d);
        if (decision == null) {
            decision = d;
        }
        return new ApprovalReceipt(promotionKey, decision.approver(), decision.verdict());
    }

    private PromotionResult finish(PromotionStatus outcome, String liveIn, String message, String actor) {
        registry.finish(promotionKey, outcome, message, actor);
        status = outcome;
        detail = message;
        return new PromotionResult(promotionKey, request.modelName(), request.version(), request.targetEnvironment(), outcome,
                liveIn, List.copyOf(stages), decision == null ? null : decision.approver(), message);
    }


}
