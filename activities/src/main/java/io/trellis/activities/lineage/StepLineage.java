package io.trellis.activities.lineage;

import java.util.List;
import java.util.function.Function;

/**
 * What one Spark step reads and writes, for its OpenLineage events: the inputs known before it runs (START) and,
 * from its result, the inputs and outputs with their pinned versions (COMPLETE).
 */
public record StepLineage<T>(String modelName, List<LineageDataset> startInputs, Function<T, List<LineageDataset>> inputs,
                             Function<T, List<LineageDataset>> outputs) {
    public static <T> StepLineage<T> of(String modelName, List<LineageDataset> startInputs, Function<T, List<LineageDataset>> inputs,
                                        Function<T, List<LineageDataset>> outputs) {
        return new StepLineage<>(modelName, List.copyOf(startInputs), inputs, outputs);
    }
}
