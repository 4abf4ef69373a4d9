package io.trellis.workflows.monitor;

import java.util.List;

/**
 * One feature's drift: PSI, KS (numeric only), severity ({@code SIGNIFICANT}, {@code MODERATE}, {@code NONE} or
 * {@code DATA_PROBLEM}), null rates, a finding for data problems, and the reference and current counts per bin
 * ({@code labels}) for the report. Statistics are null where they cannot be computed.
 */
public record FeatureDriftResult(String feature, boolean numeric, Double psi, Double ks, String severity,
                                 double referenceNullRate, double currentNullRate, String finding, List<String> labels,
                                 long[] referenceCounts, long[] currentCounts) {
    public static final String SIGNIFICANT = "SIGNIFICANT";
    public static final String MODERATE = "MODERATE";
    public static final String NONE = "NONE";
    public static final String DATA_PROBLEM = "DATA_PROBLEM";
}
