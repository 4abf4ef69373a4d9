package io.trellis.workflows.monitor;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;

/**
 * What a monitoring run watches: the spec, the environment, the version live there ({@code null}: nothing live), its
 * training AUC ({@code null} if not recorded), its pinned training snapshot ({@code null}: none in its lineage) and
 * its stored reference profile ({@code null}: not computed yet).
 */
public record MonitorTarget(ModelSpec spec, String environment, ChampionRef live, Double trainingAuc, DatasetRef snapshot,
                            String referenceProfile) {}
