package io.trellis.spark.features;

/** The feature table version a run wrote (or, on a retry, had already written: {@code committed == false}). */
public record FeatureReport(String tablePath, long version, long trainRows, long holdoutRows, boolean committed) {}
