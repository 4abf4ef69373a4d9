package io.trellis.workers.schedules;

import io.trellis.workflows.schedule.ScheduleDefinition;
import java.util.List;

/**
 * Per-model retrain and scoring schedules, one interface over two engines: {@link TemporalSchedules} (Temporal
 * Schedules on a real cluster: operators see and pause them in the Temporal UI) and {@link DurableSchedules} (the
 * {@code SchedulerWorkflow}, for the embedded test server, which lacks the Schedules API). Every change is audited
 * under the caller's identity. Unknown schedules, models or environments and bad cron expressions or time zones
 * fail with a {@link io.trellis.spec.TrellisException} and change nothing.
 */
public interface Schedules {
    /** A schedule as listed: definition, pause state and, where the engine knows them, the next firing and recent actions. */
    record ScheduleView(ScheduleDefinition definition, boolean paused, String note, String nextFireTime, List<String> recentActions) {}

    ScheduleView create(ScheduleDefinition definition, String actor);

    /** Replaces cron, time zone and overlap policy of an existing schedule. */
    ScheduleView update(ScheduleDefinition definition, String actor);

    void pause(String scheduleId, String note, String actor);

    void resume(String scheduleId, String note, String actor);

    void triggerNow(String scheduleId, String actor);

    void delete(String scheduleId, String actor);

    ScheduleView describe(String scheduleId);

    /** The schedule, or empty when there is none with this ID (deleted ones included). */
    java.util.Optional<ScheduleView> find(String scheduleId);

    List<ScheduleView> list();
}
