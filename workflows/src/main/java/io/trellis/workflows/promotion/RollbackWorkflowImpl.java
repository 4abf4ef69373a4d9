package io.trellis.workflows.promotion;

import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import io.trellis.workflows.ActivityPolicies;
import io.trellis.workflows.Failures;
import java.time.Duration;

public class RollbackWorkflowImpl implements RollbackWorkflow {
    private final PromotionActivities registry = Workflow.newActivityStub(PromotionActivities.class,
            ActivityPolicies.registry(Duration.ofMinutes(1)));

    @Override
    public RollbackResult run(RollbackRequest request) {
        try {
            return registry.rollback(request);
        } catch (ActivityFailure f) {
            throw Failures.asWorkflowFailure(f);
        }
    }
}
