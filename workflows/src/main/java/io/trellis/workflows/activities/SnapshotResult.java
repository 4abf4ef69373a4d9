package io.trellis.workflows.activities;

import java.util.List;

/** The pinned source version and the data-quality report computed on it. */
public record SnapshotResult(DatasetRef source, boolean passed, List<RuleResult> rules) {
    public List<RuleResult> failures() {
        return rules.stream().filter(r -> !r.passed()).toList();
    }
}
