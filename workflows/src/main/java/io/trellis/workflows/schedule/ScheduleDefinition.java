package io.trellis.workflows.schedule;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;

/**
 * A per-model schedule: retrain {@code modelName}, or score it in {@code environment}, whenever {@code cron}
 * fires in {@code timeZone}. {@code overlap} says what a firing does while the previous run still runs.
 */
public record ScheduleDefinition(String scheduleId, ScheduleKind kind, String modelName, String environment, String cron,
                                 String timeZone, OverlapPolicy overlap) {

    /** The schedule ID of a model's retrain schedule, or of its scoring schedule for an environment. */
    public static String scheduleId(ScheduleKind kind, String modelName, String environment) {
        return kind == ScheduleKind.RETRAIN ? "retrain-" + modelName : "score-" + modelName + "-" + environment;
    }

    /** Checks every field (cron and zone included) and fails with INVALID_REQUEST naming the first problem. */
    public ScheduleDefinition validated() {
        if (kind == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "A schedule needs a kind: RETRAIN or SCORE.");
        }
        if (modelName == null || modelName.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "A schedule needs the model it runs.");
        }
        if (kind == ScheduleKind.SCORE && (environment == null || environment.isBlank())) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "A scoring schedule needs the environment whose live version scores.");
        }
        if (kind == ScheduleKind.RETRAIN && environment != null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "A retrain schedule takes no environment (retrains register into the first one).");
        }
        if (overlap == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "A schedule needs an overlap policy: SKIP or BUFFER_ONE.");
        }
        CronExpression.zone(timeZone);
        CronExpression.parse(cron);
        return this;
    }
}
