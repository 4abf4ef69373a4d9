package io.trellis.spark.features;

/** Column names and values of a model's feature table, shared by the feature, train and evaluate jobs. */
public final class FeatureTable {
    public static final String LABEL = "label";
    public static final String SPLIT = "split";
    public static final String TRAIN = "train";
    public static final String HOLDOUT = "holdout";
    /** What a null categorical value becomes, so it is a category of its own rather than an error. */
    public static final String MISSING = "__missing__";

    private FeatureTable() {}
}
