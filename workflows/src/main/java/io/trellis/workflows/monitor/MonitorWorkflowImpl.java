package io.trellis.workflows.monitor;

import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ChildWorkflowFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Workflow;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.ActivityPolicies;
import io.trellis.workflows.Failures;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainWorkflow;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

public class MonitorWorkflowImpl implements MonitorWorkflow {
    private static final DateTimeFormatter LABEL = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private final MonitorActivities monitor = Workflow.newActivityStub(MonitorActivities.class,
            ActivityPolicies.registry(Duration.ofMinutes(2)));
    private final DriftActivities drift = Workflow.newActivityStub(DriftActivities.class,
            ActivityPolicies.spark(Duration.ofHours(2)));

    @Override
    public MonitorResult run(MonitorRequest request) {
        // A scheduled (cron) monitor keeps one workflow ID across runs; the run ID makes each run's key its own.
        String runKey = Workflow.getInfo().getWorkflowId() + "#" + Workflow.getInfo().getRunId();
        String actor = request.requestedBy() == null ? ACTOR : request.requestedBy();
        try {
            MonitorTarget target = monitor.target(request.modelName(), request.environment());
            String environment = target.environment();
            if (target.live() == null) {
                return finish(runKey, request.modelName(), environment, null, null, null, MonitorDecision.NEEDS_ATTENTION,
                        "nothing is live in " + environment + ", so there is no model to monitor; promote a version there first",
                        null, List.of(), actor);
            }
            int version = target.live().version();
            String profile = target.referenceProfile();
            if (profile == null) {
                if (target.snapshot() == null) {
                    return finish(runKey, request.modelName(), environment, version, target.trainingAuc(), null,
                            MonitorDecision.NEEDS_ATTENTION, "v" + version + " has no pinned training snapshot in its lineage, so there"
                                    + " is no reference to compare with; retrain the model through Trellis to get one",
                            null, List.of(), actor);
                }
                profile = monitor.storeReference(request.modelName(), version, target.snapshot(),
                        drift.referenceProfile(target.spec(), target.snapshot(), target.live()));
            }
            DriftResult result = drift.assess(target.spec(), target.live(), profile, target.latestScoring());
            ModelSpec.Monitoring policy = target.spec().monitoring();
            MonitorPolicy.Verdict verdict = MonitorPolicy.decide(result, policy, target.trainingAuc());
            MonitorDecision decision = verdict.needsAttention() ? MonitorDecision.NEEDS_ATTENTION : MonitorDecision.NO_DRIFT;
            String reason = verdict.reason();
            String retrainId = null;
            if (verdict.retrain()) {
                RetrainGuardState guard = monitor.retrainGuard(request.modelName(), policy.retrainCooldownSeconds());
                if (guard.runningRetrain() != null) {
                    decision = MonitorDecision.RETRAIN_ALREADY_RUNNING;
                    reason = reason + "; not retraining: " + guard.runningRetrain() + " is still running";
                } else if (guard.recentMonitorRetrain() != null) {
                    decision = MonitorDecision.RETRAIN_COOLING_DOWN;
                    reason = reason + "; not retraining: monitoring started " + guard.recentMonitorRetrain()
                            + " within the cooldown of " + policy.retrainCooldownSeconds() + " s";
                } else {
                    retrainId = startRetrain(request.modelName(), runKey, reason);
                    decision = retrainId == null ? MonitorDecision.RETRAIN_ALREADY_RUNNING : MonitorDecision.RETRAIN_STARTED;
                    if (retrainId == null) {
                        reason = reason + "; not retraining: a retrain started by monitoring at the same moment is running";
                    }
                }
            }
            return finish(runKey, request.modelName(), environment, version, target.trainingAuc(), result, decision, reason,
                    retrainId, verdict.significantFeatures(), actor);
        } catch (ActivityFailure f) {
            throw Failures.asWorkflowFailure(f);
        }
    }

    /** Starts the retrain as an abandoned child (it outlives this run); null when its ID is already taken by a running one. */
    private String startRetrain(String modelName, String runKey, String reason) {
        String id = RetrainWorkflow.workflowId(modelName, "monitor-" + LABEL.format(Instant.ofEpochMilli(Workflow.currentTimeMillis())));
        RetrainWorkflow child = Workflow.newChildWorkflowStub(RetrainWorkflow.class, ChildWorkflowOptions.newBuilder()
                .setWorkflowId(id)
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON)
                .build());
        Async.function(child::run, new RetrainRequest(modelName, ACTOR, "monitoring " + runKey + ": " + reason));
        try {
            Workflow.getWorkflowExecution(child).get();
            return id;
        } catch (ChildWorkflowFailure alreadyStarted) {
            return null;
        }
    }

    private MonitorResult finish(String runKey, String model, String environment, Integer version, Double trainingAuc,
                                 DriftResult result, MonitorDecision decision, String reason, String retrainId,
                                 List<String> significant, String actor) {
        MonitorRecord record = new MonitorRecord(runKey, model, environment, version, trainingAuc, result, decision, reason,
                retrainId, null, actor);
        String report = monitor.renderReport(record);
        record = new MonitorRecord(runKey, model, environment, version, trainingAuc, result, decision, reason, retrainId, report, actor);
        monitor.recordRun(record);
        return new MonitorResult(runKey, model, environment, version, decision, reason, retrainId, report, significant, result);
    }
}
