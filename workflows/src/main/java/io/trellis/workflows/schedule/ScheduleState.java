package io.trellis.workflows.schedule;

import java.util.List;

/**
 * What the scheduler workflow knows, carried across continue-as-new: the definition, whether it is paused (and
 * why), a buffered firing, counters and the last few actions (newest last).
 */
public record ScheduleState(ScheduleDefinition definition, boolean paused, String note, boolean buffered, long fired, long skipped,
                            List<String> recentActions) {
    public static ScheduleState initial(ScheduleDefinition definition, boolean paused, String note) {
        return new ScheduleState(definition, paused, note, false, 0, 0, List.of());
    }
}
