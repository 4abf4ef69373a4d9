package io.trellis.spark.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DriftStatisticsTest {

    @Test
    void psiOfHandCountedBins() {
        // Shares: reference 0.5, 0.5, 0 (counts as 1e-4); current 0.8, 0.1, 0.1.
        double expected = (0.8 - 0.5) * Math.log(0.8 / 0.5) + (0.1 - 0.5) * Math.log(0.1 / 0.5) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4);
        assertThat(DriftStatistics.psi(new long[] {50, 50, 0}, new long[] {80, 10, 10})).isCloseTo(expected, within(1e-12));
        assertThat(expected).isCloseTo(1.4749, within(1e-4));
        assertThat(DriftStatistics.psi(new long[] {10, 20, 30}, new long[] {1, 2, 3})).isCloseTo(0.0, within(1e-15));
        assertThat(DriftStatistics.psi(new long[] {1, 2}, new long[] {0, 0})).isNaN();
    }

    @Test
    void ksOnOneBinPerValueEqualsTheExactTwoSampleStatistic() {
        Random random = new Random(3);
        int[] a = random.ints(500, 0, 20).toArray();
        int[] b = random.ints(300, 3, 25).toArray();
        long[] ca = new long[25];
        long[] cb = new long[25];
        Arrays.stream(a).forEach(v -> ca[v]++);
        Arrays.stream(b).forEach(v -> cb[v]++);
        assertThat(DriftStatistics.ks(ca, cb)).isCloseTo(exactKs(a, b), within(1e-12));
        // Hand-counted cumulative shares: reference 0.5, 1, 1 and current 0, 0.75, 1: the largest gap is 0.5.
        assertThat(DriftStatistics.ks(new long[] {2, 2, 0}, new long[] {0, 3, 1})).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void aucOfBinnedScores() {
        // Positives in bins 1 and 2, negatives in bins 0 and 1: wins 1 + 0.5 (tie in bin 1) + 2 = 3.5 of 4 pairs.
        assertThat(DriftStatistics.auc(new long[] {0, 1, 1}, new long[] {1, 1, 0})).isCloseTo(0.875, within(1e-12));
        assertThat(DriftStatistics.auc(new long[] {0, 0, 3}, new long[] {4, 0, 0})).isEqualTo(1.0);
        assertThat(DriftStatistics.auc(new long[] {1, 0}, new long[] {0, 0})).isNaN();
    }

    /** The textbook two-sample statistic: walk both sorted samples, evaluating both empirical CDFs after each distinct value. */
    static double exactKs(int[] a, int[] b) {
        double[] x = Arrays.stream(a).asDoubleStream().sorted().toArray();
        double[] y = Arrays.stream(b).asDoubleStream().sorted().toArray();
        return exactKs(x, y);
    }

    static double exactKs(double[] x, double[] y) {
        x = x.clone();
        y = y.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        int i = 0;
        int j = 0;
        double d = 0;
        while (i < x.length && j < y.length) {
            double v = Math.min(x[i], y[j]);
            while (i < x.length && x[i] == v) {
                i++;
            }
            while (j < y.length && y[j] == v) {
                j++;
            }
            d = Math.max(d, Math.abs((double) i / x.length - (double) j / y.length));
        }
        return d;
    }
}
