package io.trellis.workflows.promotion;

import io.trellis.workflows.activities.DatasetRef;

/**
 * The staging shadow run: the predictions table version both models wrote to, and how they compare on the
 * same rows. The comparison fields are null when production had no live model.
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
        Long productionMillis) {}
