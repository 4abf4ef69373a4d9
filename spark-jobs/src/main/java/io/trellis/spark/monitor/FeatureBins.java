package io.trellis.spark.monitor;

import java.util.List;

/**
 * How one feature's values are binned, fixed by the reference snapshot. Numeric: {@code edges} are the distinct
 * reference percentiles; fine bin {@code j} is {@code [edges[j-1], edges[j])} (open-ended at both ends), used for
 * the KS statistic, and {@code coarse[j]} names the decile bin it belongs to, used for PSI and the histograms.
 * Categorical: the reference categories (the most frequent {@value DriftJob#MAX_CATEGORIES}); every other value,
 * in either window, falls into the last bucket, "other / unseen".
 */
public record FeatureBins(String feature, boolean numeric, double[] edges, int[] coarse, List<String> categories) {

    public int fineBins() {
        return numeric ? edges.length + 1 : categories.size() + 1;
    }

    public int coarseBins() {
        return numeric ? (coarse.length == 0 ? 1 : coarse[coarse.length - 1] + 1) : categories.size() + 1;
    }

    /** Numeric: fine counts summed into their decile bins; categorical: unchanged. */
    public long[] toCoarse(long[] fine) {
        if (!numeric) {
            return fine.clone();
        }
        long[] c = new long[coarseBins()];
        for (int j = 0; j < fine.length; j++) {
            c[coarse[j]] += fine[j];
        }
        return c;
    }

    /** Human-readable names of the coarse bins, for the report. */
    public List<String> coarseLabels() {
        if (!numeric) {
            List<String> labels = new java.util.ArrayList<>(categories);
            labels.add("other / unseen");
            return labels;
        }
        List<String> labels = new java.util.ArrayList<>();
        int bins = coarseBins();
        for (int b = 0; b < bins; b++) {
            Double lo = null;
            Double hi = null;
            boolean first = true;
            for (int j = 0; j < coarse.length; j++) {
                if (coarse[j] == b) {
                    if (first && j > 0) {
                        lo = edges[j - 1];
                    }
                    first = false;
                    hi = j < edges.length ? edges[j] : null;
                }
            }
            if (lo == null && hi == null) {
                labels.add("all values");
            } else if (lo == null) {
                labels.add("< " + fmt(hi));
            } else {
                labels.add("[" + fmt(lo) + ", " + (hi == null ? "∞)" : fmt(hi) + ")"));
            }
        }
        return labels;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e12 ? Long.toString((long) v) : String.format(java.util.Locale.ROOT, "%.4g", v);
    }
}
