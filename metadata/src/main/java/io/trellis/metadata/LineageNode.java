package io.trellis.metadata;

/**
 * One node reached by a lineage walk, {@code depth} edges away from where the walk started, through an edge
 * of {@code relation} ({@code source}, {@code features}, {@code produced}, {@code scored}...). {@code kind} is
 * {@code dataset_version}, {@code training_run} or {@code model_version}; the fields of the other kinds are null.
 * For a training run, {@code modelName}/{@code version}/{@code versionStatus} name the version it produced (if any).
 */
public record LineageNode(
        int depth,
        String relation,
        String kind,
        long id,
        String tablePath,
        Long deltaVersion,
        Long rowCount,
        String datasetKind,
        String runKey,
        String runStatus,
        String modelName,
        Integer version,
        String versionStatus) {

    public static final String DATASET_VERSION = LineageEdgeRow.DATASET_VERSION;
    public static final String TRAINING_RUN = LineageEdgeRow.TRAINING_RUN;
    public static final String MODEL_VERSION = LineageEdgeRow.MODEL_VERSION;

    /** How people read the node: {@code raw/churn @ Delta v3}, {@code run retrain/churn/...}, {@code churn v2}. */
    public String label() {
        return switch (kind) {
            case DATASET_VERSION -> tablePath + " @ Delta v" + deltaVersion;
            case TRAINING_RUN -> "run " + runKey + (runStatus == null ? "" : " (" + runStatus + ")");
            default -> modelName + " v" + version + (versionStatus == null ? "" : " (" + versionStatus + ")");
        };
    }
}
