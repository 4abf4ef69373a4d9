package io.trellis.spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** Evaluation metrics Trellis computes on the holdout split. */
public enum Metric {
    AUC("auc", true),
    LOG_LOSS("log_loss", false),
    PRECISION("precision", true),
    RECALL("recall", true),
    ACCURACY("accuracy", true),
    F1("f1", true);

    private final String key;
    private final boolean higherIsBetter;

    Metric(String key, boolean higherIsBetter) {
        this.key = key;
        this.higherIsBetter = higherIsBetter;
    }

    /** The name used in specs, metric maps and reports, e.g. {@code log_loss}. */
    public String key() {
        return key;
    }

    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    /** How much {@code candidate} improves on {@code champion}, positive when better. */
    public double improvement(double candidate, double champion) {
        return higherIsBetter ? candidate - champion : champion - candidate;
    }

    public static Optional<Metric> fromKey(String key) {
        String k = key.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return Arrays.stream(values()).filter(m -> m.key.equals(k)).findFirst();
    }

    @Override
    public String toString() {
        return key;
    }
}
