package io.trellis.workflows.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.WorkflowReplayer;
import io.trellis.workflows.monitor.MonitorWorkflowImpl;
import io.trellis.workflows.promotion.PromotionWorkflowImpl;
import io.trellis.workflows.promotion.RollbackWorkflowImpl;
import io.trellis.workflows.promotion.ScoringWorkflowImpl;
import io.trellis.workflows.retrain.RetrainWorkflowImpl;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The determinism guard: histories recorded from earlier runs of the workflows (happy paths, failures, an
 * approval, a rejection after a refused four-eyes approval, an expiry, a rollback, scoring, monitoring with and without a retrain) must replay
 * against the current code. A change that would break workflows already running fails here.
 */
class WorkflowReplayTest {
    static final List<String> HISTORIES = List.of(
            "retrain-succeeded", "retrain-validation-failed", "retrain-gate-failed", "retrain-transient-retried",
            "retrain-succeeded-reference-profile",
            "promotion-approved", "promotion-four-eyes-then-rejected", "promotion-expired", "promotion-gate-failed",
            "rollback", "scoring", "monitor-retrain-started", "monitor-no-drift", "retrain-overrides");

    static List<String> histories() {
        return HISTORIES;
    }

    @Test
    void everyRecordedHistoryIsPresent() throws IOException {
        for (String name : HISTORIES) {
            try (InputStream in = WorkflowReplayTest.class.getResourceAsStream("/histories/" + name + ".json")) {
                assertThat(in).as("history " + name + " (record it with RecordWorkflowHistories)").isNotNull();
                assertThat(in.readAllBytes().length).isGreaterThan(1000);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("histories")
    void replaysAgainstTheCurrentWorkflowCode(String name) throws Exception {
        String json;
        try (InputStream in = WorkflowReplayTest.class.getResourceAsStream("/histories/" + name + ".json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        WorkflowReplayer.replayWorkflowExecution(WorkflowExecutionHistory.fromJson(json), RetrainWorkflowImpl.class,
                PromotionWorkflowImpl.class, RollbackWorkflowImpl.class, ScoringWorkflowImpl.class, MonitorWorkflowImpl.class);
    }
}
