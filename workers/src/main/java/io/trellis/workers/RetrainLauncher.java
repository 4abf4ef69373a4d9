package io.trellis.workers;

import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainWorkflow;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Map;

/** Starts retrain workflows with IDs an operator can read in the Temporal UI: {@code retrain/<model>/<utc time>-<suffix>}. */
public final class RetrainLauncher {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final WorkflowClient client;
    private final Clock clock;

    public RetrainLauncher(WorkflowClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    public WorkflowStub start(RetrainRequest request) {
        return start(request, newRunKey(request.modelName()));
    }

    /** A fresh run key (workflow ID) for a retrain of {@code modelName}: {@code retrain/<model>/<utc time>-<4 hex>}. */
    public String newRunKey(String modelName) {
        byte[] suffix = new byte[2];
        RANDOM.nextBytes(suffix);
        return RetrainWorkflow.workflowId(modelName, RunLabels.of(clock.instant()) + "-" + HexFormat.of().formatHex(suffix));
    }

    /**
     * Starts the retrain under {@code runKey}. A second start with the same key, while the first runs or after it
     * ended, throws {@link io.temporal.client.WorkflowExecutionAlreadyStarted}: one key is one run, ever.
     */
    public WorkflowStub start(RetrainRequest request, String runKey) {
        WorkflowOptions options = WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(runKey)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE)
                .setMemo(Map.of("model", request.modelName(), "triggeredBy", request.triggeredBy(),
                        "reason", request.reason() == null ? "" : request.reason()))
                .build();
        RetrainWorkflow workflow = client.newWorkflowStub(RetrainWorkflow.class, options);
        WorkflowClient.start(workflow::run, request);
        return WorkflowStub.fromTyped(workflow);
    }
}
