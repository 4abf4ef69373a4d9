package io.trellis.spark.scoring;

/**
 * The Population Stability Index between two score distributions on {@code [0, 1]}, over {@value #BINS}
 * equal-width bins: {@code sum((a_i - e_i) * ln(a_i / e_i))} where {@code a_i}, {@code e_i} are the shares of each
 * distribution's scores in bin {@code i}, a share of zero counting as {@value #EPSILON} so an empty bin is a large
 * but finite term. Symmetric in its two arguments. Rule of thumb: below 0.1 stable, above 0.25 a real shift.
 */
public final class PopulationStabilityIndex {
    public static final int BINS = 10;
    public static final double EPSILON = 1e-4;

    private PopulationStabilityIndex() {}

    /** The bin of a score: {@code floor(score * BINS)}, with 1.0 (and anything outside [0, 1]) clamped into the end bins. */
    public static int bin(double score) {
        return Math.min(BINS - 1, Math.max(0, (int) Math.floor(score * BINS)));
    }

    /** Bin counts of raw scores. */
    public static long[] histogram(double[] scores) {
        long[] counts = new long[BINS];
        for (double s : scores) {
            counts[bin(s)]++;
        }
        return counts;
    }

    public static double ofScores(double[] expected, double[] actual) {
        return ofCounts(histogram(expected), histogram(actual));
    }

    /** PSI from per-bin counts of the two distributions (each of length {@value #BINS}, neither all zero). */
    public static double ofCounts(long[] expected, long[] actual) {
        if (expected.length != BINS || actual.length != BINS) {
            throw new IllegalArgumentException("PSI needs " + BINS + " bin counts per distribution, got "
                    + expected.length + " and " + actual.length);
        }
        double e = total(expected);
        double a = total(actual);
        if (e == 0 || a == 0) {
            throw new IllegalArgumentException("PSI needs at least one score in each distribution");
        }
        double psi = 0;
        for (int i = 0; i < BINS; i++) {
            double ei = Math.max(expected[i] / e, EPSILON);
            double ai = Math.max(actual[i] / a, EPSILON);
            psi += (ai - ei) * Math.log(ai / ei);
        }
        return psi;
    }

    private static double total(long[] counts) {
        long t = 0;
        for (long c : counts) {
            t += c;
        }
        return t;
    }
}
