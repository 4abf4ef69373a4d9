package io.trellis.workflows.monitor;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;

/**
 * What a monitoring run watches: the spec, the environment, the version live there ({@code null}: nothing live), its
 * training AUC ({@code null} if not recorded), its pinned training snapshot ({@code null}: none in its lineage) and
 * its stored reference profile ({@code null}: not computed yet), and the live version's latest recorded batch scoring
 * run ({@code null}: none recorded, or a history from before it was looked up; the Spark step then finds it in the
 * predictions table).
 */
public record MonitorTarget(ModelSpec spec, String environment, ChampionRef live, Double trainingAuc, DatasetRef snapshot,
                            String referenceProfile, StoredScoresRef latestScoring) {}
