package io.trellis.workers.schedules;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.api.enums.v1.ScheduleOverlapPolicy;
import io.temporal.client.schedules.Schedule;
import io.temporal.client.schedules.ScheduleActionStartWorkflow;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.promotion.ScoringRequest;
import io.trellis.workflows.retrain.RetrainRequest;
import io.trellis.workflows.schedule.OverlapPolicy;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleKind;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The SDK's test server does not implement the Schedules API, so this checks the exact schedule
 * {@link TemporalSchedules} hands to a real cluster.
 */
class TemporalSchedulesTest {
    @Test
    void aRetrainScheduleStartsTheRetrainWorkflowOnCronInItsZoneSkippingOverlaps() {
        ScheduleDefinition def = new ScheduleDefinition("retrain-customer-churn", ScheduleKind.RETRAIN, "customer-churn", null,
                "0 2 * * *", "Europe/Berlin", OverlapPolicy.SKIP).validated();
        Schedule s = TemporalSchedules.schedule(def, false, null);

        ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) s.getAction();
        assertThat(action.getWorkflowType()).isEqualTo("Retrain");
        assertThat(action.getOptions().getTaskQueue()).isEqualTo(TaskQueues.ORCHESTRATION);
        assertThat(action.getOptions().getWorkflowId()).isEqualTo("retrain/customer-churn/scheduled");
        assertThat(action.getArguments().get(0, RetrainRequest.class))
                .isEqualTo(new RetrainRequest("customer-churn", "schedule:retrain-customer-churn", "scheduled"));
        assertThat(s.getSpec().getCronExpressions()).isEqualTo(List.of("0 2 * * *"));
        assertThat(s.getSpec().getTimeZoneName()).isEqualTo("Europe/Berlin");
        assertThat(s.getSpec().getCalendars()).isNullOrEmpty();
        assertThat(s.getSpec().getIntervals()).isNullOrEmpty();
        assertThat(s.getPolicy().getOverlap()).isEqualTo(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_SKIP);
        assertThat(s.getPolicy().getCatchupWindow()).isEqualTo(Duration.ofMinutes(10));
        assertThat(s.getState().isPaused()).isFalse();
        assertThat(s.getState().getNote()).isEmpty();
        assertThat(TemporalSchedules.options(def).getMemo()).containsEntry("kind", "RETRAIN").containsEntry("model", "customer-churn");
    }

    @Test
    void aScoringScheduleStartsTheScoringWorkflowForItsEnvironmentBufferingOne() {
        ScheduleDefinition def = new ScheduleDefinition("score-customer-churn-production", ScheduleKind.SCORE, "customer-churn", "production",
                "*/30 6-18 * * MON-FRI", "America/New_York", OverlapPolicy.BUFFER_ONE).validated();
        Schedule s = TemporalSchedules.schedule(def, true, "holiday freeze");

        ScheduleActionStartWorkflow action = (ScheduleActionStartWorkflow) s.getAction();
        assertThat(action.getWorkflowType()).isEqualTo("Score");
        assertThat(action.getOptions().getWorkflowId()).isEqualTo("score/customer-churn/production/scheduled");
        assertThat(action.getArguments().get(0, ScoringRequest.class))
                .isEqualTo(new ScoringRequest("customer-churn", "production", "schedule:score-customer-churn-production"));
        assertThat(s.getSpec().getCronExpressions()).isEqualTo(List.of("*/30 6-18 * * MON-FRI"));
        assertThat(s.getSpec().getTimeZoneName()).isEqualTo("America/New_York");
        assertThat(s.getPolicy().getOverlap()).isEqualTo(ScheduleOverlapPolicy.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE);
        assertThat(s.getState().isPaused()).isTrue();
        assertThat(s.getState().getNote()).isEqualTo("holiday freeze");
    }
}
