package io.trellis.workflows.monitor;

import java.util.List;

/**
 * The latest window against the reference: row counts, the window's bounds and the source version read, every
 * feature's drift (most severe first), the score distribution's PSI and histograms (20 bins on [0, 1]), the live
 * model's AUC on the window's labelled rows ({@code null} without labels of both classes), findings about the data,
 * and where the current scores came from ({@code scoresFrom}: the production predictions table's latest run of the
 * live version, or the live model re-scoring the window when there is none; {@code null} when unscored).
 */
public record DriftResult(long referenceRows, long currentRows, String windowFrom, String windowTo, String sourceTable,
                          long sourceVersion, List<FeatureDriftResult> features, Double predictionPsi, String predictionSeverity,
                          long[] referenceScores, long[] currentScores, Double currentAuc, long labelledRows, List<String> findings,
                          String scoresFrom) {}
