package io.trellis.workflows.retention;

import java.util.List;

/**
 * What a retention run did. In a dry run {@code removed} lists what would be deleted and {@code bytesReclaimed} what that
 * would free; nothing changed. {@code kept} lists every pinned subject with its pins; {@code warnings} tables it could not
 * judge (skipped, never vacuumed blindly).
 */
public record RetentionReport(String retentionRun, RetentionMode mode, int complianceDays, String complianceCutoff,
                              List<RetentionItem> removed, List<RetentionItem> kept, long bytesReclaimed, List<String> warnings) {
    public RetentionReport {
        removed = List.copyOf(removed);
        kept = List.copyOf(kept);
        warnings = List.copyOf(warnings);
    }
}
