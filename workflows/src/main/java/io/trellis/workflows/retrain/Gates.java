package io.trellis.workflows.retrain;

import io.trellis.spec.Metric;
import io.trellis.spec.ModelSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The dev promotion gates of a model spec, evaluated on a run's metrics. Pure, so it runs inside the workflow. */
public final class Gates {
    /**
     * Spark's metrics are not bit-for-bit repeatable (a distributed sum's order varies): the same model scored twice on
     * the same holdout can differ in the last bits (seen: 0.8428998099375509 vs …504). An improvement that misses the
     * margin by less than this is noise, not a regression; the same tolerance {@code trellis reproduce} documents.
     */
    public static final double METRIC_TOLERANCE = 1e-9;

    private Gates() {}

    /** The spec's dev gates (those a retrain checks before a version becomes the dev candidate). */
    public static List<GateResult> evaluate(ModelSpec spec, Map<String, Double> candidate, Integer championVersion,
                                            Map<String, Double> champion) {
        return evaluate(spec.gates(), spec.evaluation().metric(), candidate, championVersion, champion);
    }

    public static List<GateResult> evaluate(ModelSpec.Gates gates, Metric primary, Map<String, Double> candidate,
                                            Integer championVersion, Map<String, Double> champion) {
        List<GateResult> results = new ArrayList<>();
        gates.minimums().entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> {
                    Double v = candidate.get(e.getKey().key());
                    boolean ok = v != null && v >= e.getValue();
                    results.add(new GateResult("min_" + e.getKey().key(), e.getKey().key(), v, e.getValue(), ok,
                            String.format(Locale.ROOT, "%s %s ≥ %.4f", e.getKey().key(), fmt(v), e.getValue())));
                });
        gates.maximums().entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .forEach(e -> {
                    Double v = candidate.get(e.getKey().key());
                    boolean ok = v != null && v <= e.getValue();
                    results.add(new GateResult("max_" + e.getKey().key(), e.getKey().key(), v, e.getValue(), ok,
                            String.format(Locale.ROOT, "%s %s ≤ %.4f", e.getKey().key(), fmt(v), e.getValue())));
                });
        double margin = gates.minImprovementOverChampion();
        Double cand = candidate.get(primary.key());
        if (champion == null || champion.get(primary.key()) == null) {
            results.add(new GateResult("beats_champion", primary.key(), null, margin, true,
                    "no champion to compare with: gate passes"));
        } else {
            double champ = champion.get(primary.key());
            Double improvement = cand == null ? null : primary.improvement(cand, champ);
            boolean ok = improvement != null && improvement >= margin - METRIC_TOLERANCE;
            results.add(new GateResult("beats_champion", primary.key(), improvement, margin, ok,
                    String.format(Locale.ROOT, "%s %s vs champion v%d %.4f: improvement %s ≥ %.4f",
                            primary.key(), fmt(cand), championVersion, champ, fmt(improvement), margin)));
        }
        return List.copyOf(results);
    }

    public static boolean allPassed(List<GateResult> results) {
        return results.stream().allMatch(GateResult::passed);
    }

    private static String fmt(Double v) {
        if (v == null) {
            return "missing";
        }
        String s = String.format(Locale.ROOT, "%.4f", v);
        return s.equals("-0.0000") ? "0.0000" : s;
    }
}
