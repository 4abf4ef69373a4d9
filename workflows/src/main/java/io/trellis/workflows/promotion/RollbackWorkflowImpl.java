package io.trellis.workflows.promotion;

import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.workflow.Workflow;
import io.trellis.spec.ErrorCode;
import io.trellis.workflows.Failures;
import io.trellis.workflows.TaskQueues;
import java.time.Duration;

public class RollbackWorkflowImpl implements RollbackWorkflow {
    /* The pointer move is one short transaction, idempotent on retry; refusals (no previous version) are final. */
    private final PromotionActivities registry = Workflow.newActivityStub(PromotionActivities.class,
            ActivityOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION)
                    .setStartToCloseTimeout(Duration.ofMinutes(1))
                    .setScheduleToCloseTimeout(Duration.ofMinutes(10))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(1))
                            .setMaximumInterval(Duration.ofSeconds(30))
                            .setDoNotRetry(Failures.nonRetryableTypes())
                            .build())
                    .build());

    @Override
    public RollbackResult run(RollbackRequest request) {
        try {
            return registry.rollback(request);
        } catch (ActivityFailure f) {
            String type = Failures.type(f);
            throw ApplicationFailure.newNonRetryableFailureWithCause(Failures.message(f),
                    type == null ? ErrorCode.TRANSIENT.name() : type, f);
        }
    }
}
