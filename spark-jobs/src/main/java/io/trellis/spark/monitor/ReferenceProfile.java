package io.trellis.spark.monitor;

import java.util.List;

/**
 * What monitoring compares with: the bins of every feature and the counts of the model version's training
 * snapshot ({@code table} at Delta {@code version}) in them, computed once per model version and stored with it.
 */
public record ReferenceProfile(String table, long version, List<FeatureBins> bins, WindowProfile profile) {

    public FeatureBins bins(String feature) {
        return bins.stream().filter(b -> b.feature().equals(feature)).findFirst().orElse(null);
    }
}
