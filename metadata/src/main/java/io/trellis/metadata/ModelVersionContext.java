package io.trellis.metadata;

import java.util.List;
import java.util.Map;

/**
 * What a promotion needs to know about a model version.
 *
 * @param triggeredBy          who triggered the retraining that produced the version (four-eyes: not its approver)
 * @param dataValidationPassed the verdict on the run's input data, or null when none was recorded
 * @param features             the feature dataset version the run trained on (its {@code features} lineage input),
 *                             or null when none was recorded
 * @param environments         the model's environments, lowest (first promoted to) first
 */
public record ModelVersionContext(
        String modelName,
        int version,
        ModelVersionStatus status,
        String algorithm,
        Map<String, Double> metrics,
        String artifactUri,
        String artifactSha256,
        Long artifactBytes,
        String runKey,
        String triggeredBy,
        Boolean dataValidationPassed,
        DatasetVersionRecord features,
        List<String> environments) {
}
