package io.trellis.spark.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PopulationStabilityIndexTest {

    @Test
    void aHandMadeCaseMatchesTheFormulaWorkedOutByHand() {
        // expected: bins 0, 1, 1, 9 -> shares .25, .5, .25; actual: bins 0, 0, 1, 5 -> shares .5, .25, .25
        double[] expected = {0.05, 0.15, 0.19, 0.95};
        double[] actual = {0.01, 0.09, 0.10, 0.55};
        double eps = 1e-4;
        double byHand = (0.5 - 0.25) * Math.log(0.5 / 0.25)   // bin 0
                + (0.25 - 0.5) * Math.log(0.25 / 0.5)         // bin 1
                + (0.25 - eps) * Math.log(0.25 / eps)         // bin 5: empty in expected
                + (eps - 0.25) * Math.log(eps / 0.25);        // bin 9: empty in actual

        assertThat(PopulationStabilityIndex.ofScores(expected, actual)).isCloseTo(byHand, within(1e-12));
        assertThat(byHand).isCloseTo(0.5 * Math.log(2) + 2 * 0.2499 * Math.log(2500), within(1e-12));
        assertThat(PopulationStabilityIndex.ofScores(actual, expected)).as("symmetric").isCloseTo(byHand, within(1e-12));
    }

    @Test
    void identicalDistributionsHaveNoShift() {
        double[] scores = {0.0, 0.1, 0.33, 0.5, 0.77, 1.0};
        assertThat(PopulationStabilityIndex.ofScores(scores, scores)).isZero();
        assertThat(PopulationStabilityIndex.ofCounts(new long[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
                new long[] {2, 4, 6, 8, 10, 12, 14, 16, 18, 20})).as("only shares count").isCloseTo(0.0, within(1e-15));
    }

    @Test
    void scoresAreBinnedByEqualWidthWithTheEndsClamped() {
        assertThat(PopulationStabilityIndex.bin(0.0)).isZero();
        assertThat(PopulationStabilityIndex.bin(0.0999)).isZero();
        assertThat(PopulationStabilityIndex.bin(0.1)).isEqualTo(1);
        assertThat(PopulationStabilityIndex.bin(0.95)).isEqualTo(9);
        assertThat(PopulationStabilityIndex.bin(1.0)).isEqualTo(9);
        assertThat(PopulationStabilityIndex.histogram(new double[] {0.0, 0.5, 0.55, 1.0}))
                .containsExactly(1, 0, 0, 0, 0, 2, 0, 0, 0, 1);
    }

    @Test
    void malformedInputsAreRejectedWithTheReason() {
        assertThatThrownBy(() -> PopulationStabilityIndex.ofCounts(new long[3], new long[10]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10 bin counts").hasMessageContaining("3 and 10");
        assertThatThrownBy(() -> PopulationStabilityIndex.ofScores(new double[0], new double[] {0.5}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one score");
    }
}
