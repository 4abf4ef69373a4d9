package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.usage.ResourceUsage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A cluster-mode step's usage row, from its application's JSON report ({@link io.trellis.spark.JobMain} puts the job's
 * {@link ResourceUsage}, counted by the same listener local mode uses, and the application id there). An attempt whose
 * application wrote no report (killed, lost, never started) or a report without usage is still recorded, with what the
 * worker knows: its outcome and the wall time it waited, every Spark figure 0 (so it shows as an attempt, priced at
 * nothing). The wall time is always the worker's: the whole submission, driver start-up included.
 */
final class ClusterUsage {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /** What a report said: the application id (null if none) and its usage ({@link ResourceUsage#NONE} if none). */
    record Reported(String applicationId, ResourceUsage usage) {
        static final Reported NOTHING = new Reported(null, ResourceUsage.NONE);
    }

    private ClusterUsage() {}

    /** The usage in the report at {@code report}; {@link Reported#NOTHING} when there is no readable report or usage in it. */
    static Reported read(Path report) {
        if (!Files.isRegularFile(report)) {
            return Reported.NOTHING;
        }
        try {
            JsonNode json = JSON.readTree(report.toFile());
            String app = json.hasNonNull("applicationId") ? json.get("applicationId").asText() : null;
            ResourceUsage usage = json.path("usage").isObject() ? JSON.treeToValue(json.get("usage"), ResourceUsage.class) : ResourceUsage.NONE;
            return new Reported(app, usage);
        } catch (IOException e) {
            return Reported.NOTHING;
        }
    }

    /**
     * The attempt's row. The Spark job group column holds the application id, or the application's name when its id is not
     * known.
     */
    static ResourceUsageRecord record(String workflowId, String runId, String activityId, String activityType, int attempt,
                                      String step, String appName, UsageLabels labels, UsageOutcome outcome, Reported reported,
                                      long wallMillis) {
        return labels.row(workflowId, runId, activityId, activityType, attempt, step, outcome,
                reported.applicationId() != null ? reported.applicationId() : appName, reported.usage(), wallMillis);
    }
}
