package io.trellis.workflows.monitor;

import io.temporal.activity.ActivityInterface;
import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;

/** Monitoring's Spark steps, on the Spark queue. */
@ActivityInterface(namePrefix = "Drift")
public interface DriftActivities {

    /** Bins and counts the version's training snapshot (Delta time travel) with its model's scores; the profile as JSON. */
    String referenceProfile(ModelSpec spec, DatasetRef snapshot, ChampionRef live);

    /**
     * Compares the latest window of the source table with the reference profile, in one pass over the window, with the
     * live version's scores of its latest recorded batch scoring run ({@code latestScoring}; null: found in the
     * predictions table, or none).
     */
    DriftResult assess(ModelSpec spec, ChampionRef live, String referenceProfile, StoredScoresRef latestScoring);
}
