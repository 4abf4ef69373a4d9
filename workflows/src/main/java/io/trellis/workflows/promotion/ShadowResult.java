package io.trellis.workflows.promotion;

import io.trellis.workflows.activities.DatasetRef;

/**
 * The staging shadow run: the predictions table version both models wrote to, and how they compare on the
 * same rows. The comparison fields are null when production had no live model. {@code sourceTable} and
 * {@code sourceVersion} name the source Delta version both models scored (null in results recorded before they were
 * added).
 */
public record ShadowResult(
        DatasetRef predictions,
        long rows,
        int candidateVersion,
        Integer productionVersion,
        Double agreementRate,
        Double scorePsi,
        Double meanAbsScoreDiff,
        long candidateMillis,
        Long productionMillis,
        String sourceTable,
        Long sourceVersion) {}
