package io.trellis.workflows.schedule;

import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.workflow.Async;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringWorkflow;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainWorkflow;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;

public final class SchedulerWorkflowImpl implements SchedulerWorkflow {
    private static final Logger log = Workflow.getLogger(SchedulerWorkflowImpl.class);
    /** Continue as new after this many loop turns (while idle), so the history stays small over months. */
    static final int TURNS_PER_RUN = 200;
    private static final int RECENT_ACTIONS = 20;
    private static final DateTimeFormatter LABEL = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);

    private ScheduleDefinition definition;
    private boolean paused;
    private String note;
    private boolean buffered;
    private long fired;
    private long skipped;
    private final List<String> recent = new ArrayList<>();
    private boolean changed;
    private boolean deleted;
    private int triggerRequests;
    private Promise<?> running;
    private String runningId;
    private Instant nextFire;

    @Override
    public void run(ScheduleState state) {
        definition = state.definition();
        paused = state.paused();
        note = state.note();
        buffered = state.buffered();
        fired = state.fired();
        skipped = state.skipped();
        recent.addAll(state.recentActions());
        CronExpression cron = CronExpression.parse(definition.cron());
        for (int turn = 0; !deleted; turn++) {
            if (changed) {
                changed = false;
                cron = CronExpression.parse(definition.cron());
            }
            if (running != null && running.isCompleted()) {
                RuntimeException failure = running.getFailure();
                record(runningId + (failure == null ? " finished" : " failed: " + failure.getMessage()));
                running = null;
                runningId = null;
                if (buffered) {
                    buffered = false;
                    start("buffered firing");
                }
            }
            if (triggerRequests > 0) {
                triggerRequests--;
                fire("triggered now");
                continue;
            }
            if (running == null && turn >= TURNS_PER_RUN) {
                Workflow.continueAsNew(new ScheduleState(definition, paused, note, buffered, fired, skipped, List.copyOf(recent)));
            }
            Instant now = Instant.ofEpochMilli(Workflow.currentTimeMillis());
            nextFire = paused ? null : cron.next(now, ZoneId.of(definition.timeZone()));
            Duration wait = paused ? Duration.ofDays(365) : Duration.between(now, nextFire);
            Promise<?> current = running;
            boolean woken = Workflow.await(wait, () -> changed || deleted || triggerRequests > 0 || (current != null && current.isCompleted()));
            if (!woken && !paused) {
                fire("cron " + definition.cron() + " " + definition.timeZone() + " at " + nextFire);
            }
        }
        record("deleted");
    }

    private void fire(String why) {
        if (running == null) {
            start(why);
        } else if (definition.overlap() == OverlapPolicy.BUFFER_ONE && !buffered) {
            buffered = true;
            record("buffered (" + why + ") behind " + runningId);
        } else {
            skipped++;
            record("skipped (" + why + "): " + runningId + " still running");
        }
    }

    private void start(String why) {
        String label = LABEL.format(Instant.ofEpochMilli(Workflow.currentTimeMillis())) + "-" + Workflow.randomUUID().toString().substring(0, 4);
        String requestedBy = "schedule:" + definition.scheduleId();
        ChildWorkflowOptions.Builder options = ChildWorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                // A run outlives its schedule: deleting the schedule must not cancel a retrain half-way.
                .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_ABANDON)
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
        if (definition.kind() == ScheduleKind.RETRAIN) {
            runningId = RetrainWorkflow.workflowId(definition.modelName(), label);
            RetrainWorkflow child = Workflow.newChildWorkflowStub(RetrainWorkflow.class, options.setWorkflowId(runningId).build());
            running = Async.function(child::run, new RetrainRequest(definition.modelName(), requestedBy, "scheduled (" + why + ")"));
            Workflow.getWorkflowExecution(child).get();
        } else {
            runningId = ScoringWorkflow.workflowId(definition.modelName(), definition.environment(), label);
            ScoringWorkflow child = Workflow.newChildWorkflowStub(ScoringWorkflow.class, options.setWorkflowId(runningId).build());
            running = Async.function(child::run, new ScoringRequest(definition.modelName(), definition.environment(), requestedBy));
            Workflow.getWorkflowExecution(child).get();
        }
        fired++;
        record("started " + runningId + " (" + why + ")");
    }

    private void record(String action) {
        String line = Instant.ofEpochMilli(Workflow.currentTimeMillis()) + " " + action;
        log.info("schedule {}: {}", definition.scheduleId(), line);
        recent.add(line);
        while (recent.size() > RECENT_ACTIONS) {
            recent.remove(0);
        }
    }

    @Override
    public void pause(String note) {
        if (!paused) {
            paused = true;
            this.note = note;
            record("paused" + (note == null ? "" : ": " + note));
            changed = true;
        }
    }

    @Override
    public void resume(String note) {
        if (paused) {
            paused = false;
            this.note = note;
            record("resumed" + (note == null ? "" : ": " + note));
            changed = true;
        }
    }

    @Override
    public void triggerNow() {
        triggerRequests++;
    }

    @Override
    public void update(ScheduleDefinition newDefinition) {
        definition = new ScheduleDefinition(definition.scheduleId(), definition.kind(), definition.modelName(), definition.environment(),
                newDefinition.cron(), newDefinition.timeZone(), newDefinition.overlap());
        record("updated: " + definition.cron() + " " + definition.timeZone() + ", overlap " + definition.overlap());
        changed = true;
    }

    @Override
    public void delete() {
        deleted = true;
    }

    @Override
    public ScheduleInfo describe() {
        return new ScheduleInfo(definition, paused, note, nextFire == null ? null : nextFire.toString(), runningId, buffered, fired, skipped,
                List.copyOf(recent));
    }
}
