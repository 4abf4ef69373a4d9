package io.trellis.workflows.retention;

import io.temporal.failure.ActivityFailure;
import io.temporal.workflow.Workflow;
import io.trellis.workflows.ActivityPolicies;
import io.trellis.workflows.Failures;
import java.time.Duration;

public class RetentionWorkflowImpl implements RetentionWorkflow {
    // Vacuuming many tables can take long; the heartbeat (per table and artifact) is what detects a dead worker.
    private final RetentionActivities retention = Workflow.newActivityStub(RetentionActivities.class,
            ActivityPolicies.spark(Duration.ofHours(6)));

    @Override
    public RetentionReport run(RetentionRequest request) {
        // One key per run (a cron schedule reuses the workflow id): purge marks and audit rows name it.
        String retentionRun = Workflow.getInfo().getWorkflowId() + "@" + Workflow.getInfo().getRunId();
        try {
            return retention.reclaim(request, retentionRun);
        } catch (ActivityFailure f) {
            throw Failures.asWorkflowFailure(f);
        }
    }
}
