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

public class ScoringWorkflowImpl implements ScoringWorkflow {
    /* Registry reads and the record of the run: short, retried through a database restart. */
    private final PromotionActivities registry = Workflow.newActivityStub(PromotionActivities.class,
            ActivityOptions.newBuilder()
                    .setTaskQueue(TaskQueues.ORCHESTRATION)
                    .setStartToCloseTimeout(Duration.ofMinutes(2))
                    .setScheduleToCloseTimeout(Duration.ofMinutes(10))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(1))
                            .setMaximumInterval(Duration.ofSeconds(30))
                            .setDoNotRetry(Failures.nonRetryableTypes())
                            .build())
                    .build());

    /* The scoring job: heartbeats its Spark progress; its write is idempotent per run, so retries are safe. */
    private final ScoringActivities scoring = Workflow.newActivityStub(ScoringActivities.class,
            ActivityOptions.newBuilder()
                    .setTaskQueue(TaskQueues.SPARK)
                    .setStartToCloseTimeout(Duration.ofHours(2))
                    .setHeartbeatTimeout(Duration.ofSeconds(30))
                    .setRetryOptions(RetryOptions.newBuilder()
                            .setInitialInterval(Duration.ofSeconds(5))
                            .setMaximumInterval(Duration.ofMinutes(5))
                            .setMaximumAttempts(4)
                            .setDoNotRetry(Failures.nonRetryableTypes())
                            .build())
                    .build());

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
            String type = Failures.type(f);
            throw ApplicationFailure.newNonRetryableFailureWithCause(Failures.message(f),
                    type == null ? ErrorCode.TRANSIENT.name() : type, f);
        }
    }
}
