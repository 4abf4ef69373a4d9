package io.trellis.spark.monitor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A window compared with the reference: per feature PSI (numeric: on the reference deciles; categorical: on the
 * categories plus "other / unseen"; a null bucket when either side has nulls), KS (numeric, on the percentile
 * bins, non-null values), severity and the histograms for the report; the score distribution's PSI on ten
 * equal-width bins; and the live model's AUC on the window's labelled rows.
 */
public record DriftComparison(long referenceRows, long currentRows, List<FeatureDrift> features, Double predictionPsi,
                              Severity predictionSeverity, long[] referenceScores, long[] currentScores, Double currentAuc,
                              long labelledRows, List<String> findings) {

    /** Bins of the score histograms in the report (PSI uses {@value #PSI_SCORE_BINS}). */
    public static final int REPORT_SCORE_BINS = 20;
    public static final int PSI_SCORE_BINS = 10;

    public enum Severity { DATA_PROBLEM, SIGNIFICANT, MODERATE, NONE }

    public record FeatureDrift(String feature, boolean numeric, Double psi, Double ks, Severity severity,
                               double referenceNullRate, double currentNullRate, String finding, List<String> labels,
                               long[] referenceCounts, long[] currentCounts) {}

    public static DriftComparison of(ReferenceProfile reference, WindowProfile current, double psiModerate, double psiSignificant) {
        WindowProfile ref = reference.profile();
        List<FeatureDrift> features = new ArrayList<>();
        for (FeatureBins b : reference.bins()) {
            features.add(feature(b, ref.features().get(b.feature()), current.features().get(b.feature()), current.rows(),
                    psiModerate, psiSignificant));
        }
        features.sort(Comparator.comparing(FeatureDrift::severity)
                .thenComparing(f -> f.psi() == null ? -1 : f.psi(), Comparator.reverseOrder()));
        Double predictionPsi = null;
        Severity predictionSeverity = Severity.NONE;
        Double auc = null;
        long labelled = 0;
        if (current.scored() && ref.scored()) {
            double psi = DriftStatistics.psi(regroup(ref.scores(), PSI_SCORE_BINS), regroup(current.scores(), PSI_SCORE_BINS));
            predictionPsi = Double.isNaN(psi) ? null : psi;
            predictionSeverity = severity(predictionPsi, psiModerate, psiSignificant);
            labelled = DriftStatistics.total(current.positives()) + DriftStatistics.total(current.negatives());
            double a = DriftStatistics.auc(current.positives(), current.negatives());
            auc = Double.isNaN(a) ? null : a;
        }
        return new DriftComparison(ref.rows(), current.rows(), List.copyOf(features), predictionPsi, predictionSeverity,
                regroup(ref.scores(), REPORT_SCORE_BINS), regroup(current.scores(), REPORT_SCORE_BINS), auc, labelled,
                current.findings());
    }

    private static FeatureDrift feature(FeatureBins b, WindowProfile.FeatureCounts ref, WindowProfile.FeatureCounts cur,
                                        long currentRows, double moderate, double significant) {
        List<String> labels = new ArrayList<>(b.coarseLabels());
        long[] refCoarse = b.toCoarse(ref.counts());
        double refNullRate = rate(ref.nulls(), ref.nonNull() + ref.nulls());
        if (cur == null || currentRows == 0) {
            String finding = cur == null && currentRows > 0 ? "missing from the current data" : "no rows in the window";
            return new FeatureDrift(b.feature(), b.numeric(), null, null,
                    currentRows == 0 ? Severity.NONE : Severity.DATA_PROBLEM, refNullRate, 0, finding, labels,
                    refCoarse, new long[refCoarse.length]);
        }
        long[] curCoarse = b.toCoarse(cur.counts());
        double curNullRate = rate(cur.nulls(), cur.nonNull() + cur.nulls());
        if (ref.nulls() > 0 || cur.nulls() > 0) {
            labels.add("null");
            refCoarse = append(refCoarse, ref.nulls());
            curCoarse = append(curCoarse, cur.nulls());
        }
        double psi = DriftStatistics.psi(refCoarse, curCoarse);
        Double ks = null;
        if (b.numeric()) {
            double k = DriftStatistics.ks(ref.counts(), cur.counts());
            ks = Double.isNaN(k) ? null : k;
        }
        if (cur.nonNull() == 0) {
            return new FeatureDrift(b.feature(), b.numeric(), psi, ks, Severity.DATA_PROBLEM, refNullRate, curNullRate,
                    "all " + cur.nulls() + " values in the window are null", labels, refCoarse, curCoarse);
        }
        return new FeatureDrift(b.feature(), b.numeric(), psi, ks, severity(psi, moderate, significant), refNullRate,
                curNullRate, null, labels, refCoarse, curCoarse);
    }

    static Severity severity(Double psi, double moderate, double significant) {
        if (psi == null) {
            return Severity.NONE;
        }
        return psi >= significant ? Severity.SIGNIFICANT : psi >= moderate ? Severity.MODERATE : Severity.NONE;
    }

    /** Equal-width score bins merged into {@code bins} wider ones. */
    static long[] regroup(long[] fine, int bins) {
        long[] out = new long[bins];
        for (int i = 0; i < fine.length; i++) {
            out[(int) ((long) i * bins / fine.length)] += fine[i];
        }
        return out;
    }

    private static long[] append(long[] a, long v) {
        long[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = v;
        return out;
    }

    private static double rate(long part, long whole) {
        return whole == 0 ? 0 : (double) part / whole;
    }
}
