package io.trellis.workflows.activities;

import io.temporal.activity.ActivityInterface;

/**
 * The metadata store as a run uses it (PostgreSQL): runs, dataset versions, lineage, model versions,
 * environments and the audit trail. Every method is idempotent per run key, because Temporal retries.
 */
@ActivityInterface(namePrefix = "Registry")
public interface RegistryActivities {

    /** Opens the run (status RUNNING) and returns the model's spec and champion. Unknown model: UNKNOWN_MODEL. */
    ModelDefinition startRun(RunStart start);

    /** Records the pinned source version, its lineage edge and the validation report. */
    void recordSnapshot(String runKey, SnapshotResult snapshot);

    /** Records the feature table version the run produced and its lineage edge. */
    void recordFeatures(String runKey, FeatureResult features);

    /** Registers the run's model version exactly once, with metrics, parameters, gate results and lineage. */
    RegisteredVersion registerModelVersion(RegisterRequest request);

    /** Makes the version the candidate of an environment (the previous candidate's pointer is closed, kept as history). */
    void markCandidate(String runKey, String modelName, int version, String environment, String actor);

    /** Closes the run with its final status and writes the closing audit row. */
    void finishRun(RunOutcome outcome);
}
