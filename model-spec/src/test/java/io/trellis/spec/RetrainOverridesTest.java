package io.trellis.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RetrainOverridesTest {
    private final ModelSpec churn = SampleModels.customerChurn();

    @Test
    void windowEndsAreCanonicalUtcInstantsAndDatesMeanMidnightUtc() {
        RetrainOverrides o = RetrainOverrides.of("2025-01-02", "2025-01-03T01:00:00+01:00", Map.of());
        assertThat(o.from()).isEqualTo("2025-01-02T00:00:00Z");
        assertThat(o.to()).isEqualTo("2025-01-03T00:00:00Z");
        assertThat(o.windowed()).isTrue();
        assertThat(o.problems(churn)).isEmpty();
        assertThatThrownBy(() -> RetrainOverrides.of("last tuesday", null, null))
                .isInstanceOf(TrellisException.class)
                .hasMessage("'from' must be an ISO-8601 instant such as 2025-01-02T00:00:00Z or a date such as 2025-01-02 (midnight UTC),"
                        + " was 'last tuesday'.");
    }

    @Test
    void everyProblemIsNamedAgainstTheModelsAlgorithmAndTimeColumn() {
        RetrainOverrides bad = RetrainOverrides.of("2025-01-03", "2025-01-03", Map.of("maxIter", 2.5, "maxDepth", 3.0,
                "elasticNetParam", 1.5, "regParam", 0.1));
        assertThat(bad.problems(churn)).containsExactly(
                "window: 'from' (2025-01-03T00:00:00Z) must be before 'to' (2025-01-03T00:00:00Z); the window is empty",
                "hyperparameters.elasticNetParam: 1.5 is out of range [0.0, 1.0]",
                "hyperparameters.maxDepth: unknown hyperparameter for logistic_regression (the algorithm of customer-churn); known: maxIter,"
                        + " regParam, elasticNetParam, tol",
                "hyperparameters.maxIter: must be a whole number, got 2.5");
        assertThat(RetrainOverrides.of("2025-01-04", "2025-01-03", null).problems(churn)).singleElement().asString()
                .endsWith("the window is reversed");
        ModelSpec noTime = new ModelSpec(churn.name(), churn.description(), churn.source(), churn.label(), churn.features(), churn.algorithm(),
                churn.split(), churn.evaluation(), churn.gates(), churn.quality(), churn.environments(), churn.promotion(),
                new ModelSpec.Scoring(null, 0), churn.monitoring(), churn.budget());
        assertThat(RetrainOverrides.of(null, "2025-01-03", null).problems(noTime)).singleElement().asString()
                .startsWith("window: model customer-churn declares no time column (scoring.timeColumn in its spec)");
        assertThatThrownBy(() -> bad.requireFits(churn)).isInstanceOf(TrellisException.class)
                .hasMessageStartingWith("The retrain overrides do not fit model customer-churn: window: ");
    }

    @Test
    void hyperparametersReplaceTheSpecsForTheRunAndTheDescriptionRoundTrips() {
        RetrainOverrides o = RetrainOverrides.of(null, "2025-01-03", Map.of("maxIter", 7.0));
        ModelSpec trained = o.applyTo(churn);
        assertThat(trained.algorithm().hyperparameters()).containsEntry("maxIter", 7.0).containsEntry("regParam", 0.01);
        assertThat(churn.algorithm().hyperparameters()).containsEntry("maxIter", 50.0);
        assertThat(trained.source()).isEqualTo(churn.source());
        assertThat(RetrainOverrides.fromDescription(o.describe())).isEqualTo(o);
        assertThat(RetrainOverrides.fromDescription(null)).isNull();
        assertThat(new RetrainOverrides(null, null, null).noOverrides()).isTrue();
    }
}
