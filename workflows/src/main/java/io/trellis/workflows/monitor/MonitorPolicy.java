package io.trellis.workflows.monitor;

import io.trellis.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The spec's monitoring policy applied to a comparison. Drift triggers a retrain; problems with the data itself
 * (no rows, missing or all-null features) do not, because a model trained on broken data would be worse: they
 * need a person, and are reported as such.
 */
public final class MonitorPolicy {
    private MonitorPolicy() {}

    /** Whether to retrain and why; {@code needsAttention} when something besides drift is wrong. */
    public record Verdict(boolean retrain, boolean needsAttention, String reason, List<String> significantFeatures) {}

    public static Verdict decide(DriftResult drift, ModelSpec.Monitoring policy, Double trainingAuc) {
        if (drift.currentRows() == 0) {
            return new Verdict(false, true, "the current window has no rows, so nothing was compared; check that data is"
                    + " still arriving in " + drift.sourceTable(), List.of());
        }
        List<String> significant = new ArrayList<>();
        List<String> described = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (FeatureDriftResult f : drift.features()) {
            if (FeatureDriftResult.SIGNIFICANT.equals(f.severity())) {
                significant.add(f.feature());
                described.add(f.feature() + " (PSI " + fmt(f.psi()) + ")");
            } else if (FeatureDriftResult.DATA_PROBLEM.equals(f.severity())) {
                problems.add(f.feature() + ": " + f.finding());
            }
        }
        List<String> triggers = new ArrayList<>();
        if (significant.size() >= policy.minSignificantFeatures()) {
            triggers.add(significant.size() + " feature" + (significant.size() == 1 ? "" : "s") + " drifted significantly (PSI >= "
                    + fmt(policy.psiSignificant()) + "): " + String.join(", ", described));
        }
        if (drift.predictionPsi() != null && drift.predictionPsi() >= policy.predictionPsi()) {
            triggers.add("the score distribution shifted (PSI " + fmt(drift.predictionPsi()) + " >= " + fmt(policy.predictionPsi()) + ")");
        }
        if (trainingAuc != null && drift.currentAuc() != null && trainingAuc - drift.currentAuc() > policy.aucDropMargin()) {
            triggers.add("AUC fell from " + fmt(trainingAuc) + " at training to " + fmt(drift.currentAuc()) + " on "
                    + drift.labelledRows() + " labelled recent rows (allowed drop " + fmt(policy.aucDropMargin()) + ")");
        }
        String problemText = problems.isEmpty() ? "" : "; data problems (not a reason to retrain): " + String.join("; ", problems);
        if (!triggers.isEmpty()) {
            return new Verdict(true, false, String.join("; ", triggers) + problemText, List.copyOf(significant));
        }
        if (!problems.isEmpty()) {
            return new Verdict(false, true, "no drift that warrants a retrain" + problemText, List.copyOf(significant));
        }
        String detail = significant.isEmpty() ? "no feature drifted significantly"
                : significant.size() + " feature(s) drifted significantly, fewer than the " + policy.minSignificantFeatures() + " required";
        return new Verdict(false, false, detail + (drift.predictionPsi() == null ? "" : ", score PSI " + fmt(drift.predictionPsi()))
                + (drift.currentAuc() == null ? "" : ", AUC " + fmt(drift.currentAuc())), List.copyOf(significant));
    }

    static String fmt(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }
}
