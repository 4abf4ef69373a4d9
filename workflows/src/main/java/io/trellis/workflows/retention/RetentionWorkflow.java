package io.trellis.workflows.retention;

import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * Lineage-aware retention: reclaims storage of old feature and prediction tables and model artifacts unless lineage
 * pins them. Started on demand ({@code trellis retention run}, {@code POST /api/v1/retention/runs}) or on a cron schedule
 * ({@code trellis retention schedule}).
 */
@WorkflowInterface
public interface RetentionWorkflow {
    /** Workflow id of the scheduled (cron) retention. */
    String SCHEDULED_ID = "retention/scheduled";

    @WorkflowMethod
    RetentionReport run(RetentionRequest request);
}
