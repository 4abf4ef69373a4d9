package io.trellis.workflows.schedule;

/** What a firing does while the schedule's previous run is still running. Never two runs at once. */
public enum OverlapPolicy {
    /** Drop the firing (counted as skipped). */
    SKIP,
    /** Remember one firing and start it when the running one ends; further firings meanwhile are skipped. */
    BUFFER_ONE
}
