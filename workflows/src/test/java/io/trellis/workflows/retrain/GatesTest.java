package io.trellis.workflows.retrain;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.spec.Metric;
import io.trellis.spec.ModelSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatesTest {
    private static final ModelSpec.Gates NO_WORSE = new ModelSpec.Gates(Map.of(), Map.of(), 0.0);

    private static GateResult beatsChampion(double candidate, double champion) {
        List<GateResult> results = Gates.evaluate(NO_WORSE, Metric.AUC, Map.of("auc", candidate), 1, Map.of("auc", champion));
        return results.stream().filter(r -> r.gate().equals("beats_champion")).findFirst().orElseThrow();
    }

    @Test
    void theSameModelScoredTwiceIsNotARegressionWhenSparkSumsInAnotherOrder() {
        // Observed in PromotionEndToEndIT: one model, one holdout, two evaluations, last bits differ.
        assertThat(beatsChampion(0.8428998099375504, 0.8428998099375506).passed()).isTrue();
    }

    @Test
    void aRealShortfallStillFails() {
        assertThat(beatsChampion(0.8428, 0.8429).passed()).isFalse();
        assertThat(beatsChampion(0.8429 - 1e-7, 0.8429).passed()).isFalse();
    }
}
