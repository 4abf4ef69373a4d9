package io.trellis.workers.schedules;

import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.Registry;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleKind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What both engines share: checking a definition against the registry, and the audit rows of schedule changes. */
final class ScheduleAudit {
    private ScheduleAudit() {}

    /** The definition validated, with its model (and environment, for scoring) known to the registry. */
    static ScheduleDefinition check(Registry registry, ScheduleDefinition definition) {
        definition.validated();
        List<String> environments = registry.environments(definition.modelName());
        if (definition.kind() == ScheduleKind.SCORE && !environments.contains(definition.environment())) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Model " + definition.modelName() + " has no environment '"
                    + definition.environment() + "'; its environments are " + String.join(", ", environments) + ".");
        }
        String expected = ScheduleDefinition.scheduleId(definition.kind(), definition.modelName(), definition.environment());
        if (!expected.equals(definition.scheduleId())) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The schedule ID of this definition must be '" + expected + "', not '"
                    + definition.scheduleId() + "' (one retrain schedule per model, one scoring schedule per model and environment).");
        }
        return definition;
    }

    static void record(Registry registry, String actor, String action, ScheduleDefinition definition, String message) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("scheduleId", definition.scheduleId());
        details.put("kind", definition.kind().name());
        details.put("cron", definition.cron());
        details.put("timeZone", definition.timeZone());
        details.put("overlap", definition.overlap().name());
        details.put("environment", definition.environment());
        registry.recordAudit(actor, action, AuditOutcome.SUCCESS, definition.modelName(), null, null, message, details);
    }

    static TrellisException unknown(String scheduleId) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, "No schedule '" + scheduleId + "' exists; list them with `trellis schedules list`"
                + " (IDs look like retrain-<model> or score-<model>-<environment>).");
    }
}
