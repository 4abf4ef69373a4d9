package io.trellis.workflows.promotion;

import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import io.trellis.workflows.ActivityPolicies;
import io.trellis.workflows.Failures;
import java.time.Duration;

public class ScoringWorkflowImpl implements ScoringWorkflow {
    private final PromotionActivities registry = Workflow.newActivityStub(PromotionActivities.class,
            ActivityPolicies.registry(Duration.ofMinutes(2)));
    private final ScoringActivities scoring = Workflow.newActivityStub(ScoringActivities.class,
            ActivityPolicies.spark(Duration.ofHours(2)));

    @Override
    public ScoringRunResult run(ScoringRequest request) {
        // A scheduled (cron) scoring keeps one workflow ID across runs; the run ID makes each run's write its own.
        String runKey = Workflow.getInfo().getWorkflowId() + "#" + Workflow.getInfo().getRunId();
        try {
            ScoringTarget target = registry.scoringTarget(request.modelName(), request.environment());
            BatchScoreResult result = scoring.batchScore(new BatchScoreRequest(runKey, target.spec(), request.environment(),
                    target.live()));
            registry.recordScoring(runKey, request.modelName(), request.environment(), target.live().version(), result,
                    request.requestedBy());
            return new ScoringRunResult(runKey, request.modelName(), request.environment(), target.live().version(), result);
        } catch (ActivityFailure f) {
            throw Failures.asWorkflowFailure(f);
        }
    }
}
