package io.trellis.activities.spark;

/**
 * What a Spark step's usage is accounted to: the model, and the environment the step served (null when it serves
 * none in particular); and the run's hard cost limit (null: none), past which the step is cancelled.
 */
public record UsageLabels(String model, String environment, Double hardLimitPerRun) {
    /** Retrains land their candidate in the first environment; their steps are accounted to it. */
    public static final String TRAINING_ENVIRONMENT = "dev";

    public UsageLabels(String model, String environment) {
        this(model, environment, null);
    }

    public static UsageLabels training(io.trellis.spec.ModelSpec spec) {
        return new UsageLabels(spec.name(), TRAINING_ENVIRONMENT, spec.budget() == null ? null : spec.budget().hardLimitPerRun());
    }
}
