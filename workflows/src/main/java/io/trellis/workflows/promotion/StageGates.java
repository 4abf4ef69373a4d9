package io.trellis.workflows.promotion;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.retrain.GateResult;
import io.trellis.workflows.retrain.Gates;
import java.util.ArrayList;
import java.util.List;

/** One stage's gates, evaluated in the workflow (pure). */
public final class StageGates {
    private StageGates() {}

    public static GateResult dataQuality(boolean passed) {
        return new GateResult("data_quality", null, passed ? 1.0 : 0.0, 1.0, passed,
                passed ? "the training data passed its quality rules" : "the training data failed its quality rules");
    }

    public static GateResult artifactChecksum(ArtifactCheck check) {
        return new GateResult("artifact_checksum", null, check.matches() ? 1.0 : 0.0, 1.0, check.matches(), check.detail());
    }

    /**
     * Data quality, checksum, then the environment's metric gates (the spec's {@code promotion.stageGates} for it,
     * else the model's gates) against the environment's live version, if any.
     */
    public static List<GateResult> evaluate(ModelSpec spec, String environment, boolean dataValidationPassed,
                                            ArtifactCheck artifact, EvaluationResult evaluation) {
        List<GateResult> gates = new ArrayList<>();
        gates.add(dataQuality(dataValidationPassed));
        gates.add(artifactChecksum(artifact));
        if (evaluation != null) {
            gates.addAll(Gates.evaluate(spec.promotion().stageGates().getOrDefault(environment, spec.gates()),
                    spec.evaluation().metric(), evaluation.candidate(), evaluation.championVersion(), evaluation.champion()));
        }
        return List.copyOf(gates);
    }
}
