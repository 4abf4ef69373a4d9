package io.trellis.workflows.retrain;

import io.trellis.workflows.activities.DatasetRef;
import java.util.List;
import java.util.Map;

/** What a run produced: status, the version and its metrics beside the champion's, the data it was trained on. */
public record RetrainResult(
        String runKey,
        String modelName,
        RunStatus status,
        Integer version,
        String environment,
        Map<String, Double> metrics,
        Integer championVersion,
        Map<String, Double> championMetrics,
        String championNote,
        DatasetRef source,
        DatasetRef features,
        List<GateResult> gates,
        String message) {}
