package io.trellis.activities.spark;

/**
 * What a Spark step's usage is accounted to: the model, and the environment the step served (null when it serves
 * none in particular).
 */
public record UsageLabels(String model, String environment) {
    /** Retrains land their candidate in the first environment; their steps are accounted to it. */
    public static final String TRAINING_ENVIRONMENT = "dev";

    public static UsageLabels training(String model) {
        return new UsageLabels(model, TRAINING_ENVIRONMENT);
    }
}
