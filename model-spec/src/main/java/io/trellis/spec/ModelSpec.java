package io.trellis.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model as its owners declare it: where its data lives, what it learns, how it is judged and
 * which environments it moves through. Immutable; build it with {@link ModelSpecLoader}, which
 * validates it. Passed through Temporal as JSON, so every component is a plain record.
 */
public record ModelSpec(
        String name,
        String description,
        Source source,
        String label,
        Features features,
        Algorithm algorithm,
        Split split,
        Evaluation evaluation,
        Gates gates,
        Quality quality,
        List<String> environments,
        Promotion promotion,
        Scoring scoring,
        Monitoring monitoring,
        Budget budget,
        Resources resources) {

    /** A spec without a {@code resources} section (the arity before it existed; old call sites and histories). */
    public ModelSpec(String name, String description, Source source, String label, Features features, Algorithm algorithm,
                     Split split, Evaluation evaluation, Gates gates, Quality quality, List<String> environments,
                     Promotion promotion, Scoring scoring, Monitoring monitoring, Budget budget) {
        this(name, description, source, label, features, algorithm, split, evaluation, gates, quality, environments, promotion,
                scoring, monitoring, budget, null);
    }

    /** The source Delta table, relative to the lake root (e.g. {@code raw/customer_churn}) or an absolute URI. */
    public record Source(String table, String keyColumn) {}

    public record Features(List<String> numeric, List<String> categorical) {
        public List<String> all() {
            List<String> all = new ArrayList<>(numeric);
            all.addAll(categorical);
            return List.copyOf(all);
        }
    }

    /** An MLlib algorithm and its hyperparameters (numbers only, validated per algorithm). */
    public record Algorithm(AlgorithmType type, Map<String, Double> hyperparameters) {
        public double param(String name) {
            Double v = hyperparameters.get(name);
            if (v == null) {
                return type.defaultValue(name);
            }
            return v;
        }
    }

    /** Deterministic train/holdout split: a row's side is a hash of its key and the seed. */
    public record Split(double holdoutFraction, long seed) {}

    /** The metric that ranks versions, and the decision threshold for precision/recall. */
    public record Evaluation(Metric metric, double threshold) {}

    /**
     * Promotion gates. {@code minimums}/{@code maximums} bound metrics of the candidate;
     * {@code minImprovementOverChampion} is how much the primary metric must beat the champion's
     * on the same holdout (in the metric's better direction).
     */
    public record Gates(Map<Metric, Double> minimums, Map<Metric, Double> maximums, double minImprovementOverChampion) {}

    /** Data-quality rules run in one Spark pass before any training. */
    public record Quality(
            long minRows,
            List<String> requiredColumns,
            double defaultMaxNullRate,
            Map<String, Double> maxNullRate,
            Map<String, Range> ranges) {}

    /** An inclusive value range; either end may be null (unbounded). */
    public record Range(Double min, Double max) {}

    /**
     * How versions move through the environments: which need a human approval (default: the last one), how
     * long an approval may wait before the promotion expires, and where a shadow run compares the candidate
     * with the production model (default: every environment between the first and the last). {@code stageGates}
     * overrides the model's gates for an environment (e.g. a stricter AUC floor for production).
     */
    public record Promotion(List<String> approvalRequiredIn, long approvalTimeoutSeconds, List<String> shadowIn,
                            Map<String, Gates> stageGates) {}

    /**
     * The window batch scoring and shadow runs read: rows whose {@code timeColumn} lies within
     * {@code windowDays} of the table's latest value; no time column means the whole table.
     */
    public record Scoring(String timeColumn, int windowDays) {}

    /**
     * How the version live in {@code environment} is watched. A numeric feature's Population Stability Index on the
     * reference deciles (a categorical one's on its categories plus an "unseen" bucket) at or above
     * {@code psiSignificant} is significant drift, at or above {@code psiModerate} moderate. A retrain starts when at
     * least {@code minSignificantFeatures} features drift significantly, when the score distribution's PSI reaches
     * {@code predictionPsi}, or when the live model's AUC on labelled recent rows is more than {@code aucDropMargin}
     * below its training AUC; never while a retrain of the model runs, nor within {@code retrainCooldownSeconds} of a
     * retrain that monitoring started. {@code schedule} is a cron expression for scheduled runs, or null.
     */
    public record Monitoring(String environment, double psiModerate, double psiSignificant, int minSignificantFeatures,
                             double predictionPsi, double aucDropMargin, long retrainCooldownSeconds, String schedule) {}

    /**
     * What a retrain may cost (estimated by the configured price sheet), or null for no budget. {@code perRun} and
     * {@code perMonth} (nullable: no such limit) bound a run's estimated cost, checked before its heavy steps against the
     * estimate and, for the month, what the model's runs already cost this calendar month (UTC); over budget the run
     * waits for an approver or fails, by {@code onExceed}. {@code hardLimitPerRun} (nullable) is what a run may actually
     * use: a Spark step that takes the run's recorded cost past it is cancelled.
     */
    public record Budget(Double perRun, Double perMonth, BudgetPolicy onExceed, Double hardLimitPerRun) {}

    /**
     * What each retrain Spark job asks the cluster for, in cluster mode ({@code trellis.spark.mode=cluster}): every field
     * is optional and, where set, replaces the worker's {@code trellis.spark.executor.*} / {@code trellis.spark.driver.memory}
     * setting on that job's spark-submit command line. Memory sizes are Spark's ({@code 512m}, {@code 2g}). {@code steps}
     * overrides the defaults for one step ({@link #STEPS}); a step's own {@code steps} is always null. Ignored in local
     * mode, where every job runs on the worker's own session.
     */
    public record Resources(String executorMemory, Integer executorCores, Integer executorInstances, String driverMemory,
                            Map<String, Resources> steps) {
        /** The retrain's Spark steps, as {@code resources.steps} names them. */
        public static final List<String> STEPS = List.of("validate", "features", "train", "evaluate");

        /** What {@code step} asks for: its own values where set, else the defaults. */
        public Resources forStep(String step) {
            Resources own = steps == null ? null : steps.get(step);
            if (own == null) {
                return new Resources(executorMemory, executorCores, executorInstances, driverMemory, null);
            }
            return new Resources(own.executorMemory != null ? own.executorMemory : executorMemory,
                    own.executorCores != null ? own.executorCores : executorCores,
                    own.executorInstances != null ? own.executorInstances : executorInstances,
                    own.driverMemory != null ? own.driverMemory : driverMemory, null);
        }
    }

    /** What a retrain does when its estimate is over budget. */
    public enum BudgetPolicy {
        /** Wait at a gate until an approver (not the run's trigger) approves or rejects; four-eyes, audited. */
        APPROVAL,
        /** Fail at once with the estimate and the budget in the message. */
        FAIL
    }

    /** Every column the spec reads from the source table. */
    public List<String> referencedColumns() {
        List<String> cols = new ArrayList<>();
        if (source.keyColumn() != null) {
            cols.add(source.keyColumn());
        }
        cols.add(label);
        cols.addAll(features.all());
        for (String c : quality.requiredColumns()) {
            if (!cols.contains(c)) {
                cols.add(c);
            }
        }
        return List.copyOf(cols);
    }

    public double maxNullRate(String column) {
        return quality.maxNullRate().getOrDefault(column, quality.defaultMaxNullRate());
    }
}
