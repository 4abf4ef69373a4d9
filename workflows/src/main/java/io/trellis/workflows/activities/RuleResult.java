package io.trellis.workflows.activities;

/** One data-quality rule's outcome, readable as it stands: which rule, which column, observed vs allowed. */
public record RuleResult(String rule, String column, String observed, String allowed, boolean passed) {
    public String describe() {
        return rule + (column == null ? "" : " on '" + column + "'") + ": observed " + observed + ", allowed " + allowed;
    }
}
