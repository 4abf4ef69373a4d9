package io.trellis.workflows.activities;

/** The feature table version a run trains and evaluates on, with the sizes of both splits. */
public record FeatureResult(DatasetRef table, long trainRows, long holdoutRows) {}
