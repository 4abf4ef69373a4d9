package io.trellis.workers.schedules;

import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.enums.v1.WorkflowIdReusePolicy;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.trellis.metadata.EmbeddedScheduleStore;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RegistryQueries;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleInfo;
import io.trellis.workflows.schedule.ScheduleKind;
import io.trellis.workflows.schedule.ScheduleState;
import io.trellis.workflows.schedule.SchedulerWorkflow;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Schedules as {@link SchedulerWorkflow}s (ID {@code schedule/<scheduleId>}), for the embedded test server. Changes
 * are signals, so they take effect at the workflow's next task (milliseconds). Listing needs no visibility query
 * (the test server has none): schedule IDs derive from the models and environments in PostgreSQL, and each
 * candidate is described directly.
 */
public final class DurableSchedules implements Schedules {
    private final WorkflowClient client;
    private final Registry registry;
    private final RegistryQueries queries;

    /** Where definitions are written through, so a restarted embedded stack re-creates them; null keeps none. */
    private final EmbeddedScheduleStore store;

    public DurableSchedules(WorkflowClient client, Registry registry, RegistryQueries queries) {
        this(client, registry, queries, null);
    }

    public DurableSchedules(WorkflowClient client, Registry registry, RegistryQueries queries, EmbeddedScheduleStore store) {
        this.client = client;
        this.registry = registry;
        this.queries = queries;
        this.store = store;
    }

    /**
     * Re-creates every stored schedule that has no running scheduler workflow (all of them, on a fresh embedded server),
     * with its definition and pause state, and audits each as {@code schedule.restored}. Returns their IDs. Firings
     * that fell due while no process ran are not made up: the next one is the first due after now.
     */
    public List<String> restore(String actor) {
        if (store == null) {
            return List.of();
        }
        List<String> restored = new ArrayList<>();
        for (EmbeddedScheduleStore.StoredSchedule s : store.all()) {
            if (find(s.scheduleId()).isPresent()) {
                continue;
            }
            ScheduleDefinition definition = new ScheduleDefinition(s.scheduleId(), ScheduleKind.valueOf(s.kind()), s.modelName(),
                    s.environment(), s.cron(), s.timeZone(), io.trellis.workflows.schedule.OverlapPolicy.valueOf(s.overlap()));
            start(definition, s.paused(), s.note());
            ScheduleAudit.record(registry, actor, "schedule.restored", definition, "Restored schedule " + s.scheduleId() + " ("
                    + definition.cron() + " " + definition.timeZone() + (s.paused() ? ", paused" : "") + ") when the embedded stack started");
            restored.add(s.scheduleId());
        }
        return restored;
    }

    private void start(ScheduleDefinition definition, boolean paused, String note) {
        SchedulerWorkflow wf = client.newWorkflowStub(SchedulerWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION)
                .setWorkflowId(SchedulerWorkflow.workflowId(definition.scheduleId()))
                // A deleted schedule (a closed workflow) may be created again; a live one may not.
                .setWorkflowIdReusePolicy(WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE)
                .build());
        WorkflowClient.start(wf::run, ScheduleState.initial(definition, paused, note));
    }

    private void persist(ScheduleDefinition d, String actor) {
        if (store != null) {
            store.save(d.scheduleId(), d.kind().name(), d.modelName(), d.environment(), d.cron(), d.timeZone(), d.overlap().name(), actor);
        }
    }

    @Override
    public ScheduleView create(ScheduleDefinition definition, String actor) {
        ScheduleAudit.check(registry, definition);
        try {
            start(definition, false, null);
        } catch (WorkflowExecutionAlreadyStarted e) {
            throw new TrellisException(ErrorCode.INVALID_STATE, "Schedule '" + definition.scheduleId() + "' already exists; update it instead.");
        }
        persist(definition, actor);
        ScheduleAudit.record(registry, actor, "schedule.created", definition, "Created schedule " + definition.scheduleId() + ": "
                + definition.cron() + " " + definition.timeZone() + ", overlap " + definition.overlap());
        return describe(definition.scheduleId());
    }

    @Override
    public ScheduleView update(ScheduleDefinition definition, String actor) {
        ScheduleAudit.check(registry, definition);
        running(definition.scheduleId()).update(definition);
        persist(definition, actor);
        ScheduleAudit.record(registry, actor, "schedule.updated", definition, "Updated schedule " + definition.scheduleId() + ": "
                + definition.cron() + " " + definition.timeZone() + ", overlap " + definition.overlap());
        return describe(definition.scheduleId());
    }

    @Override
    public void pause(String scheduleId, String note, String actor) {
        SchedulerWorkflow wf = running(scheduleId);
        wf.pause(note);
        if (store != null) {
            store.setPaused(scheduleId, true, note, actor);
        }
        ScheduleAudit.record(registry, actor, "schedule.paused", wf.describe().definition(), "Paused schedule " + scheduleId
                + (note == null ? "" : ": " + note));
    }

    @Override
    public void resume(String scheduleId, String note, String actor) {
        SchedulerWorkflow wf = running(scheduleId);
        wf.resume(note);
        if (store != null) {
            store.setPaused(scheduleId, false, note, actor);
        }
        ScheduleAudit.record(registry, actor, "schedule.resumed", wf.describe().definition(), "Resumed schedule " + scheduleId
                + (note == null ? "" : ": " + note));
    }

    @Override
    public void triggerNow(String scheduleId, String actor) {
        SchedulerWorkflow wf = running(scheduleId);
        wf.triggerNow();
        ScheduleAudit.record(registry, actor, "schedule.triggered", wf.describe().definition(), "Triggered schedule " + scheduleId + " now");
    }

    @Override
    public void delete(String scheduleId, String actor) {
        SchedulerWorkflow wf = running(scheduleId);
        ScheduleDefinition definition = wf.describe().definition();
        wf.delete();
        if (store != null) {
            store.delete(scheduleId);
        }
        ScheduleAudit.record(registry, actor, "schedule.deleted", definition, "Deleted schedule " + scheduleId);
    }

    @Override
    public ScheduleView describe(String scheduleId) {
        return find(scheduleId).orElseThrow(() -> ScheduleAudit.unknown(scheduleId));
    }

    @Override
    public List<ScheduleView> list() {
        List<ScheduleView> out = new ArrayList<>();
        for (RegistryQueries.ModelSummary model : queries.models()) {
            find(ScheduleDefinition.scheduleId(ScheduleKind.RETRAIN, model.name(), null)).ifPresent(out::add);
            for (String env : registry.environments(model.name())) {
                find(ScheduleDefinition.scheduleId(ScheduleKind.SCORE, model.name(), env)).ifPresent(out::add);
            }
        }
        return out;
    }

    @Override
    public Optional<ScheduleView> find(String scheduleId) {
        String workflowId = SchedulerWorkflow.workflowId(scheduleId);
        try {
            WorkflowStub stub = client.newUntypedWorkflowStub(workflowId);
            if (stub.describe().getStatus() != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
                return Optional.empty();
            }
            ScheduleInfo info = client.newWorkflowStub(SchedulerWorkflow.class, workflowId).describe();
            return Optional.of(new ScheduleView(info.definition(), info.paused(), info.note(), info.nextFireTime(), info.recentActions()));
        } catch (WorkflowNotFoundException e) {
            return Optional.empty();
        }
    }

    private SchedulerWorkflow running(String scheduleId) {
        describe(scheduleId);
        return client.newWorkflowStub(SchedulerWorkflow.class, SchedulerWorkflow.workflowId(scheduleId));
    }
}
