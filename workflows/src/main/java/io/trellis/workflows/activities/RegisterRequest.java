package io.trellis.workflows.activities;

import io.trellis.workflows.retrain.GateResult;
import java.util.List;
import java.util.Map;

/** Everything a model version is registered with; registering twice for one run returns the first version. */
public record RegisterRequest(
        String runKey,
        String modelName,
        TrainResult training,
        EvaluationResult evaluation,
        List<GateResult> gates,
        boolean gatesPassed,
        String actor) {}
