package io.trellis.spark.train;

import java.util.Map;

/** The saved model, its algorithm key, the effective hyperparameters (and seed), the training rows and wall time. */
public record TrainReport(String modelPath, String algorithm, Map<String, String> params, long trainRows, long millis) {}
