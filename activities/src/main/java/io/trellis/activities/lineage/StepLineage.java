package io.trellis.activities.lineage;

import java.util.List;
import java.util.function.Function;

/**
 * What one Spark step reads and writes, for its OpenLineage events: the Trellis run it belongs to ({@code runKey} as the
 * registry and audit trail name it; null when the request carries none, then {@code <workflow ID>#<run ID>}, the key
 * of cron-started runs such as monitoring), the inputs known before it runs (START) and, from its result, the inputs
 * and outputs with their pinned versions (COMPLETE).
 */
public record StepLineage<T>(String runKey, String modelName, List<LineageDataset> startInputs, Function<T, List<LineageDataset>> inputs,
                             Function<T, List<LineageDataset>> outputs) {
    public static <T> StepLineage<T> of(String runKey, String modelName, List<LineageDataset> startInputs,
                                        Function<T, List<LineageDataset>> inputs, Function<T, List<LineageDataset>> outputs) {
        return new StepLineage<>(runKey, modelName, List.copyOf(startInputs), inputs, outputs);
    }
}
