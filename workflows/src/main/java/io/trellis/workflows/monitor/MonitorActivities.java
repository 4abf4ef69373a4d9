package io.trellis.workflows.monitor;

import io.temporal.activity.ActivityInterface;
import io.trellis.workflows.activities.DatasetRef;

/** Monitoring's light steps on the orchestration queue: the registry (PostgreSQL) and the report (artifact store). */
@ActivityInterface(namePrefix = "Monitor")
public interface MonitorActivities {

    /** The spec and the version live in the environment (null: the spec's monitoring environment); unknown model: UNKNOWN_MODEL. */
    MonitorTarget target(String modelName, String environment);

    /** Stores a version's reference profile (the first one stored wins) and returns the stored one. */
    String storeReference(String modelName, int version, DatasetRef snapshot, String profile);

    /** Why monitoring must not start a retrain of the model now (a running retrain, the cooldown), or allowed. */
    RetrainGuardState retrainGuard(String modelName, long cooldownSeconds);

    /** Renders the run's self-contained HTML report into the artifact store; returns its URI. Idempotent per run key. */
    String renderReport(MonitorRecord record);

    /** Records the run, its statistics (time series) and its audit row, once per run key. */
    void recordRun(MonitorRecord record);
}
