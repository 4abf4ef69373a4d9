package io.trellis.activities.lineage;

import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.DatasetRef;

/**
 * A dataset a Spark step read or wrote, as its OpenLineage event names it: a Delta table at a version (the path and
 * version exactly as lineage records them), or a model artifact identified by its checksum. {@code version} and
 * {@code rowCount} are null where not known yet (a START event's input before the step pinned it).
 */
public record LineageDataset(Kind kind, String location, String version, Long rowCount) {
    public enum Kind { DELTA_TABLE, MODEL_ARTIFACT }

    public static LineageDataset delta(DatasetRef ref) {
        return new LineageDataset(Kind.DELTA_TABLE, ref.tablePath(), Long.toString(ref.version()), ref.rowCount());
    }

    public static LineageDataset delta(String tablePath, long version, Long rowCount) {
        return new LineageDataset(Kind.DELTA_TABLE, tablePath, Long.toString(version), rowCount);
    }

    /** A Delta table whose version the step has not pinned yet. */
    public static LineageDataset deltaUnpinned(String tablePath) {
        return new LineageDataset(Kind.DELTA_TABLE, tablePath, null, null);
    }

    public static LineageDataset artifact(ArtifactRef ref) {
        return new LineageDataset(Kind.MODEL_ARTIFACT, ref.uri(), ref.sha256(), null);
    }
}
