package io.trellis.spark.validate;

/**
 * One data-quality rule on one column (null for table-wide rules), with what was observed and what is
 * allowed as readable text, e.g. {@code "3.1% null (62 of 2000)"} against {@code "≤ 10.0%"}.
 */
public record RuleResult(String rule, String column, String observed, String allowed, boolean passed) {
    public static final String MIN_ROWS = "min_rows";
    /** Not a check: the retrain's data window and how many rows of the pinned version lie in it. */
    public static final String DATA_WINDOW = "data_window";
    public static final String LABEL_NOT_NULL = "label_not_null";
    public static final String LABEL_BINARY = "label_binary";
    public static final String KEY_NOT_NULL = "key_not_null";
    public static final String MAX_NULL_RATE = "max_null_rate";
    public static final String RANGE = "range";
    public static final String REQUIRED_COLUMN = "required_column";
}
