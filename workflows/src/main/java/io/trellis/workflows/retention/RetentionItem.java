package io.trellis.workflows.retention;

import java.util.List;

/**
 * One thing retention looked at. {@code kind}: {@code model-artifact} (a model version's artifact), {@code delta-files}
 * (the files only older versions of a Delta table referenced) or {@code prediction-rows} (old prediction rows of an
 * unpinned model version). {@code subject} names it ({@code churn v3},
 * {@code file:/lake/features/churn@0..1}); {@code bytes} is what deleting it frees (or freed); {@code pins} say why it
 * is kept (empty when it is, or would be, deleted).
 */
public record RetentionItem(String kind, String subject, long bytes, List<String> pins, String note) {
    public static final String MODEL_ARTIFACT = "model-artifact";
    public static final String DELTA_FILES = "delta-files";
    /** Old prediction rows of an unpinned model version in a predictions table (Delta DELETE); the subject gives the row count. */
    public static final String PREDICTION_ROWS = "prediction-rows";

    public RetentionItem {
        pins = pins == null ? List.of() : List.copyOf(pins);
    }
}
