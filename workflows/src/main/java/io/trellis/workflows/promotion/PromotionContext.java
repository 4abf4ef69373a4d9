package io.trellis.workflows.promotion;

import io.trellis.spec.ModelSpec;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.DatasetRef;
import java.util.List;

/**
 * What a promotion knows about the version once it is opened: the spec, who trained it (for four-eyes),
 * whether its training data passed the quality rules, its artifact and the feature table version whose
 * holdout it is judged on, and the environments it must pass through, in order, ending in the target.
 */
public record PromotionContext(
        String promotionKey,
        String modelName,
        int version,
        ModelSpec spec,
        String trainedBy,
        boolean dataValidationPassed,
        ArtifactRef artifact,
        DatasetRef features,
        List<String> stages) {}
