package io.trellis.workers.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditQuery;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.schedule.OverlapPolicy;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The embedded stack's schedules outlive its process: definitions and pause state are written through to PostgreSQL,
 * and a new embedded stack (a fresh in-memory Temporal server, as when {@code trellis api} starts again) re-creates them.
 */
class EmbeddedSchedulesRestartIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;

    @Test
    void schedulesAreRecreatedWithTheirDefinitionAndPauseStateByTheNextEmbeddedStack() throws Exception {
        Map<String, String> settings = TestingTrellisConfig.settings(EmbeddedSchedulesRestartIT.class);
        TrellisConfig config = TrellisConfig.load(Optional.empty(), settings);
        ScheduleDefinition retrain = new ScheduleDefinition(ScheduleDefinition.scheduleId(ScheduleKind.RETRAIN, MODEL, null),
                ScheduleKind.RETRAIN, MODEL, null, "0 2 * * *", "Europe/Berlin", OverlapPolicy.BUFFER_ONE);
        ScheduleDefinition scoring = new ScheduleDefinition(ScheduleDefinition.scheduleId(ScheduleKind.SCORE, MODEL, "production"),
                ScheduleKind.SCORE, MODEL, "production", "30 6 * * 1", "UTC", OverlapPolicy.SKIP);
        ScheduleDefinition dropped = new ScheduleDefinition(ScheduleDefinition.scheduleId(ScheduleKind.SCORE, MODEL, "staging"),
                ScheduleKind.SCORE, MODEL, "staging", "0 * * * *", "UTC", OverlapPolicy.SKIP);

        try (TrellisRuntime first = TrellisRuntime.open(config)) {
            String yaml = SampleModels.customerChurnYaml();
            first.registry().applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "loader");
            Schedules schedules = first.schedules();
            schedules.create(new ScheduleDefinition(retrain.scheduleId(), retrain.kind(), MODEL, null, "0 3 * * *", "UTC", OverlapPolicy.SKIP),
                    "eng");
            schedules.update(retrain, "eng");
            schedules.create(scoring, "eng");
            schedules.pause(scoring.scheduleId(), "holiday freeze", "eng");
            schedules.create(dropped, "eng");
            schedules.delete(dropped.scheduleId(), "eng");
            // nothing to restore while the schedules run
            assertThat(((DurableSchedules) schedules).restore("trellis")).isEmpty();
        }

        try (TrellisRuntime second = TrellisRuntime.open(config)) {
            DurableSchedules schedules = (DurableSchedules) second.schedules();
            assertThat(schedules.find(retrain.scheduleId())).as("the new embedded server starts without them").isEmpty();

            assertThat(schedules.restore("trellis")).containsExactly(retrain.scheduleId(), scoring.scheduleId());

            Schedules.ScheduleView r = schedules.describe(retrain.scheduleId());
            assertThat(r.definition()).isEqualTo(retrain);
            assertThat(r.paused()).isFalse();
            assertThat(r.nextFireTime()).isNotNull();
            assertThat(Instant.parse(r.nextFireTime().toString()).atZone(java.time.ZoneId.of("Europe/Berlin")).getHour()).isEqualTo(2);
            Schedules.ScheduleView s = schedules.describe(scoring.scheduleId());
            assertThat(s.definition()).isEqualTo(scoring);
            assertThat(s.paused()).isTrue();
            assertThat(s.note()).isEqualTo("holiday freeze");
            assertThat(schedules.find(dropped.scheduleId())).isEmpty();
            assertThat(schedules.list()).extracting(v -> v.definition().scheduleId())
                    .containsExactlyInAnyOrder(retrain.scheduleId(), scoring.scheduleId());
            assertThat(schedules.restore("trellis")).as("restoring twice creates nothing").isEmpty();

            List<AuditEntry> restored = second.registry().auditTrail(AuditQuery.forModel(MODEL)).stream()
                    .filter(a -> a.action().equals("schedule.restored")).toList();
            assertThat(restored).extracting(AuditEntry::actor).containsOnly("trellis");
            assertThat(restored).hasSize(2);

            // Changes after the restart are written through as well: resumed, it comes back unpaused next time.
            schedules.resume(scoring.scheduleId(), null, "eng");
        }
        try (TrellisRuntime third = TrellisRuntime.open(config)) {
            DurableSchedules schedules = (DurableSchedules) third.schedules();
            assertThat(schedules.restore("trellis")).hasSize(2);
            assertThat(schedules.describe(scoring.scheduleId()).paused()).isFalse();
        }
    }
}
