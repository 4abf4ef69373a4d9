package io.trellis.spark.monitor;

/**
 * The drift statistics, computed from bin counts so that each window is read once. Bins are ordered (numeric
 * features: ascending value ranges), so the empirical CDF at every bin boundary follows from the counts.
 */
public final class DriftStatistics {
    /** A bin share of zero counts as this much, so an empty bin is a large but finite PSI term. */
    public static final double EPSILON = 1e-4;

    private DriftStatistics() {}

    /**
     * Population Stability Index {@code sum((a_i - e_i) * ln(a_i / e_i))} over the shares {@code e_i} of the
     * reference and {@code a_i} of the current counts; NaN when either side has no counts.
     */
    public static double psi(long[] reference, long[] current) {
        requireSameLength(reference, current);
        double e = total(reference);
        double a = total(current);
        if (e == 0 || a == 0) {
            return Double.NaN;
        }
        double psi = 0;
        for (int i = 0; i < reference.length; i++) {
            double ei = Math.max(reference[i] / e, EPSILON);
            double ai = Math.max(current[i] / a, EPSILON);
            psi += (ai - ei) * Math.log(ai / ei);
        }
        return psi;
    }

    /**
     * The two-sample Kolmogorov–Smirnov statistic {@code max |F_ref(x) - F_cur(x)|} evaluated at the boundaries of
     * ordered bins; NaN when either side has no counts. When every distinct value is its own bin this is the exact
     * statistic; on quantile bins it is exact at the bin boundaries and lower than the exact one by at most the
     * largest bin's share.
     */
    public static double ks(long[] reference, long[] current) {
        requireSameLength(reference, current);
        double e = total(reference);
        double a = total(current);
        if (e == 0 || a == 0) {
            return Double.NaN;
        }
        double ce = 0;
        double ca = 0;
        double d = 0;
        for (int i = 0; i < reference.length; i++) {
            ce += reference[i];
            ca += current[i];
            d = Math.max(d, Math.abs(ce / e - ca / a));
        }
        return d;
    }

    /**
     * The area under the ROC curve from the counts of positive and negative examples per ascending score bin
     * (Mann–Whitney: a positive beats every negative in a lower bin and half of those in its own bin); NaN
     * without both classes.
     */
    public static double auc(long[] positives, long[] negatives) {
        requireSameLength(positives, negatives);
        double p = total(positives);
        double n = total(negatives);
        if (p == 0 || n == 0) {
            return Double.NaN;
        }
        double wins = 0;
        double negativesBelow = 0;
        for (int i = 0; i < positives.length; i++) {
            wins += positives[i] * (negativesBelow + negatives[i] / 2.0);
            negativesBelow += negatives[i];
        }
        return wins / (p * n);
    }

    public static long total(long[] counts) {
        long t = 0;
        for (long c : counts) {
            t += c;
        }
        return t;
    }

    private static void requireSameLength(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("bin counts differ in length: " + a.length + " and " + b.length);
        }
    }
}
