package io.trellis.workflows.schedule;

import java.util.List;

/**
 * The answer to the scheduler's {@code describe} query. {@code nextFireTime} is null while paused;
 * {@code runningWorkflowId} is null when no run is in progress. Times are ISO-8601 instants.
 */
public record ScheduleInfo(ScheduleDefinition definition, boolean paused, String note, String nextFireTime, String runningWorkflowId,
                           boolean buffered, long fired, long skipped, List<String> recentActions) {}
