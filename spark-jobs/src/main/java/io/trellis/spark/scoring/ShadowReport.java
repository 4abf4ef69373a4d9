package io.trellis.spark.scoring;

/**
 * A shadow run: the predictions commit holding the candidate's (and the champion's) scores for the same rows, and
 * how the two compare. Without a champion every comparison field and the champion's fields are null.
 *
 * <p>{@code agreementRate} is the share of rows whose predictions agree at the spec's threshold; {@code scorePsi}
 * the Population Stability Index between the two score distributions ({@link PopulationStabilityIndex});
 * {@code candidateMillis}/{@code championMillis} each model's scoring wall time over the same cached rows.
 */
public record ShadowReport(
        String predictionsTable,
        long predictionsVersion,
        long rows,
        int candidateVersion,
        Integer championVersion,
        Double agreementRate,
        Double scorePsi,
        Double meanAbsScoreDiff,
        double candidateMeanScore,
        Double championMeanScore,
        long candidateMillis,
        Long championMillis,
        boolean committed) {}
