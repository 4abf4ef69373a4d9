package io.trellis.spark.validate;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The pinned snapshot of a source table and the data-quality verdict on it. */
public record SnapshotReport(String tablePath, long deltaVersion, long rowCount, List<RuleResult> results, boolean passed) {
    public List<RuleResult> failures() {
        return results.stream().filter(r -> !r.passed()).toList();
    }

    public Optional<RuleResult> find(String rule, String column) {
        return results.stream()
                .filter(r -> r.rule().equals(rule) && java.util.Objects.equals(r.column(), column))
                .findFirst();
    }

    /** Throws DATA_VALIDATION_FAILED listing every failed rule, for callers that stop on failure. */
    public SnapshotReport requirePassed() {
        if (!passed) {
            throw new TrellisException(ErrorCode.DATA_VALIDATION_FAILED,
                    "data-quality rules failed on " + tablePath + " at version " + deltaVersion + ":\n  - "
                            + failures().stream()
                                    .map(r -> r.rule() + (r.column() == null ? "" : " on '" + r.column() + "'")
                                            + ": observed " + r.observed() + ", allowed " + r.allowed())
                                    .collect(Collectors.joining("\n  - "))
                            + "\nFix the source data (or the quality rules in the model spec) and run again; nothing was trained.");
        }
        return this;
    }
}
