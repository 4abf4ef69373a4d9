package io.trellis.workflows.promotion;

import io.trellis.workflows.retrain.GateResult;
import java.util.List;

/** One environment's verdict: its gates (observed vs threshold), the shadow comparison if it ran one. */
public record StageReport(String environment, Integer championVersion, List<GateResult> gates, ShadowResult shadow,
                          boolean passed) {}
