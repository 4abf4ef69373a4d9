package io.trellis.workflows.retention;

/** Whether a retention run only reports what it would delete, or deletes it. */
public enum RetentionMode {
    /** Report what would be deleted and how many bytes that frees; change nothing. */
    DRY_RUN,
    /** Delete what no pin protects, mark it purged, report what went and the bytes reclaimed. */
    DELETE
}
