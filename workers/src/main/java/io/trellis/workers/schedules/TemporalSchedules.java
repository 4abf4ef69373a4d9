package io.trellis.workers.schedules;

import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.temporal.client.schedules.ScheduleAlreadyRunningException;
import io.temporal.client.schedules.ScheduleClient;
import io.temporal.client.schedules.ScheduleDescription;
import io.temporal.client.schedules.ScheduleHandle;
import io.temporal.client.schedules.ScheduleOptions;
import io.temporal.client.schedules.SchedulePolicy;
import io.temporal.client.schedules.ScheduleSpec;
import io.temporal.client.schedules.ScheduleState;
import io.temporal.client.schedules.ScheduleUpdate;
import io.trellis.metadata.Registry;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.promotion.ScoringWorkflow;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.retrain.RetrainWorkflow;
import io.trellis.workflows.schedule.OverlapPolicy;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleKind;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Schedules as Temporal Schedules (a real cluster). The schedule's ID is the definition's; each firing starts the
 * workflow with ID {@code retrain/<model>/scheduled} (Temporal appends the firing time), requested by
 * {@code schedule:<id>}. The definition travels in the schedule's memo, so listing needs nothing else.
 */
public final class TemporalSchedules implements Schedules {
    /** A firing missed by up to this much (server down) still runs once when the server is back. */
    static final Duration CATCHUP_WINDOW = Duration.ofMinutes(10);

    private final ScheduleClient client;
    private final Registry registry;

    public TemporalSchedules(ScheduleClient client, Registry registry) {
        this.client = client;
        this.registry = registry;
    }

    /** The exact Temporal schedule a definition becomes. */
    static Schedule schedule(ScheduleDefinition d, boolean paused, String note) {
        String requestedBy = "schedule:" + d.scheduleId();
        ScheduleActionStartWorkflow.Builder action = ScheduleActionStartWorkflow.newBuilder();
        if (d.kind() == ScheduleKind.RETRAIN) {
            action.setWorkflowType(RetrainWorkflow.class)
                    .setArguments(new RetrainRequest(d.modelName(), requestedBy, "scheduled"))
                    .setOptions(WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.ORCHESTRATION)
                            .setWorkflowId(RetrainWorkflow.workflowId(d.modelName(), "scheduled")).build());
        } else {
            action.setWorkflowType(ScoringWorkflow.class)
                    .setArguments(new ScoringRequest(d.modelName(), d.environment(), requestedBy))
                    .setOptions(WorkflowOptions.newBuilder().setTaskQueue(TaskQueues.ORCHESTRATION)
                            .setWorkflowId(ScoringWorkflow.workflowId(d.modelName(), d.environment(), "scheduled")).build());
        }
        return Schedule.newBuilder()
                .setAction(action.build())
                .setSpec(ScheduleSpec.newBuilder().setCronExpressions(List.of(d.cron())).setTimeZoneName(d.timeZone()).build())
                .setPolicy(SchedulePolicy.newBuilder().setOverlap(overlap(d.overlap())).setCatchupWindow(CATCHUP_WINDOW).build())
                .setState(ScheduleState.newBuilder().setPaused(paused).setNote(note == null ? "" : note).build())
                .build();
    }

    static ScheduleOverlapPolicy overlap(OverlapPolicy policy) {
        return policy == OverlapPolicy.SKIP ? ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP
                : ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE;
    }

    static ScheduleOptions options(ScheduleDefinition d) {
        return ScheduleOptions.newBuilder().setMemo(Map.of("kind", d.kind().name(), "model", d.modelName(),
                "environment", d.environment() == null ? "" : d.environment(), "overlap", d.overlap().name())).build();
    }

    @Override
    public ScheduleView create(ScheduleDefinition definition, String actor) {
        ScheduleAudit.check(registry, definition);
        try {
            client.createSchedule(definition.scheduleId(), schedule(definition, false, null), options(definition));
        } catch (ScheduleAlreadyRunningException e) {
            throw new TrellisException(ErrorCode.INVALID_STATE, "Schedule '" + definition.scheduleId() + "' already exists; update it instead.");
        }
        ScheduleAudit.record(registry, actor, "schedule.created", definition, "Created schedule "
                + definition.scheduleId() + ": " + definition.cron() + " " + definition.timeZone());
        return describe(definition.scheduleId());
    }

    @Override
    public ScheduleView update(ScheduleDefinition definition, String actor) {
        ScheduleAudit.check(registry, definition);
        ScheduleHandle handle = handle(definition.scheduleId());
        handle.update(input -> new ScheduleUpdate(schedule(definition, input.getDescription().getSchedule().getState().isPaused(),
                input.getDescription().getSchedule().getState().getNote())));
        ScheduleAudit.record(registry, actor, "schedule.updated", definition, "Updated schedule "
                + definition.scheduleId() + ": " + definition.cron() + " " + definition.timeZone());
        return describe(definition.scheduleId());
    }

    @Override
    public void pause(String scheduleId, String note, String actor) {
        ScheduleDefinition definition = describe(scheduleId).definition();
        handle(scheduleId).pause(note == null ? "" : note);
        ScheduleAudit.record(registry, actor, "schedule.paused", definition, "Paused schedule " + scheduleId + (note == null ? "" : ": " + note));
    }

    @Override
    public void resume(String scheduleId, String note, String actor) {
        ScheduleDefinition definition = describe(scheduleId).definition();
        handle(scheduleId).unpause(note == null ? "" : note);
        ScheduleAudit.record(registry, actor, "schedule.resumed", definition, "Resumed schedule " + scheduleId + (note == null ? "" : ": " + note));
    }

    @Override
    public void triggerNow(String scheduleId, String actor) {
        ScheduleDefinition definition = describe(scheduleId).definition();
        handle(scheduleId).trigger();
        ScheduleAudit.record(registry, actor, "schedule.triggered", definition, "Triggered schedule " + scheduleId + " now");
    }

    @Override
    public void delete(String scheduleId, String actor) {
        ScheduleDefinition definition = describe(scheduleId).definition();
        handle(scheduleId).delete();
        ScheduleAudit.record(registry, actor, "schedule.deleted", definition, "Deleted schedule " + scheduleId);
    }

    @Override
    public ScheduleView describe(String scheduleId) {
        ScheduleDescription d = handle(scheduleId).describe();
        return view(scheduleId, d);
    }

    @Override
    public java.util.Optional<ScheduleView> find(String scheduleId) {
        try {
            return java.util.Optional.of(view(scheduleId, client.getHandle(scheduleId).describe()));
        } catch (io.temporal.client.schedules.ScheduleException e) {
            return java.util.Optional.empty();
        }
    }

    @Override
    public List<ScheduleView> list() {
        return client.listSchedules().map(s -> describe(s.getScheduleId())).toList();
    }

    private ScheduleHandle handle(String scheduleId) {
        ScheduleHandle handle = client.getHandle(scheduleId);
        try {
            handle.describe();
        } catch (io.temporal.client.schedules.ScheduleException e) {
            throw ScheduleAudit.unknown(scheduleId);
        }
        return handle;
    }

    private static ScheduleView view(String scheduleId, ScheduleDescription d) {
        Schedule s = d.getSchedule();
        ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) s.getAction();
        ScheduleKind kind = action.getWorkflowType().equals(RetrainWorkflow.WORKFLOW_TYPE) ? ScheduleKind.RETRAIN : ScheduleKind.SCORE;
        String model;
        String environment = null;
        if (kind == ScheduleKind.RETRAIN) {
            model = action.getArguments().get(0, RetrainRequest.class).modelName();
        } else {
            ScoringRequest r = action.getArguments().get(0, ScoringRequest.class);
            model = r.modelName();
            environment = r.environment();
        }
        OverlapPolicy overlap = s.getPolicy().getOverlap() == ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE
                ? OverlapPolicy.BUFFER_ONE : OverlapPolicy.SKIP;
        ScheduleDefinition def = new ScheduleDefinition(scheduleId, kind, model, environment, s.getSpec().getCronExpressions().isEmpty() ? ""
                : s.getSpec().getCronExpressions().get(0), s.getSpec().getTimeZoneName(), overlap);
        List<String> recent = d.getInfo().getRecentActions().stream()
                .map(a -> a.getScheduledAt() + " started " + ((io.temporal.client.schedules.ScheduleActionExecutionStartWorkflow) a.getAction())
                        .getWorkflowId()).toList();
        String next = d.getInfo().getNextActionTimes().isEmpty() ? null : d.getInfo().getNextActionTimes().get(0).toString();
        return new ScheduleView(def, s.getState().isPaused(), s.getState().getNote(), next, recent);
    }
}
