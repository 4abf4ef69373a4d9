package io.trellis.spark.scoring;

/** A registered model version and where its fitted PipelineModel (as saved by {@code TrainJob}) lives. */
public record ScoringModel(int version, String modelPath) {}
