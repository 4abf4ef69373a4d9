package io.trellis.activities.spark.cluster;

import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.spark.usage.ResourceUsage;
import java.util.Locale;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run's hard cost limit ({@code budget.hardLimitPerRun}) for one cluster-mode step attempt, priced as in local mode:
 * what the workflow's earlier attempts cost (read once, when the attempt starts) plus what this attempt's application
 * used, through the same {@link UsageSink#cost}. Checked three times: before the application is submitted (a run already
 * over its limit starts nothing more), while it runs (the live estimate from the driver's REST API, client deploy mode
 * only) and when it ended (its report: where nothing was checked while it ran — cluster deploy mode — or it ended between
 * two checks). Each check answers null, or the message the activity fails with.
 */
final class RunLimit {
    private static final Logger log = LoggerFactory.getLogger(RunLimit.class);
    private static final String ADVICE = " Raise the limit in the spec, or reduce the input.";

    private final String step;
    private final String workflowId;
    private final String model;
    private final double limit;
    private final double before;
    private final UsageSink sink;
    private final Function<ResourceUsage, ResourceUsageRecord> row;

    private RunLimit(String step, String workflowId, String model, double limit, double before, UsageSink sink,
                     Function<ResourceUsage, ResourceUsageRecord> row) {
        this.step = step;
        this.workflowId = workflowId;
        this.model = model;
        this.limit = limit;
        this.before = before;
        this.sink = sink;
        this.row = row;
    }

    /**
     * The limit of {@code labels} for the step, or null when there is none, accounting is off, or the run's recorded cost
     * cannot be read (like recording, enforcement must not fail a step on its own; local mode does the same). {@code row}
     * turns a usage into the attempt's row, for pricing.
     */
    static RunLimit of(String step, String workflowId, UsageLabels labels, UsageSink sink,
                       Function<ResourceUsage, ResourceUsageRecord> row) {
        Double limit = labels.hardLimitPerRun();
        if (limit == null || sink == UsageSink.NONE) {
            return null;
        }
        try {
            return new RunLimit(step, workflowId, labels.model(), limit, sink.recordedCost(workflowId), sink, row);
        } catch (RuntimeException e) {
            log.warn("Hard limit of {} ({}) not enforced: the run's recorded cost could not be read: {}", workflowId, step, e.toString());
            return null;
        }
    }

    /** What the run's earlier attempts cost. */
    double before() {
        return before;
    }

    /** The run is already over its limit before this step's application is submitted. */
    String beforeStart() {
        return before <= limit ? null : String.format(Locale.ROOT, "%s not started: run %s has already reached an estimated cost of"
                + " %.6f, over the hard limit of %.6f per run (budget.hardLimitPerRun of %s).%s", step, workflowId, before, limit, model,
                ADVICE);
    }

    /** While the application runs: its live usage (estimated from the driver's REST API) takes the run over the limit. */
    String whileRunning(ResourceUsage live) {
        double now = before + sink.cost(row.apply(live));
        return now <= limit ? null : String.format(Locale.ROOT, "%s cancelled: run %s reached an estimated cost of %.6f, over the hard"
                + " limit of %.6f per run (budget.hardLimitPerRun of %s); its Spark application was stopped and killed while its"
                + " jobs ran.%s", step, workflowId, now, limit, model, ADVICE);
    }

    /**
     * After the application ended: what its report says it used takes the run over the limit. {@code why} says why no
     * check stopped it while it ran.
     */
    String afterEnd(ResourceUsage reported, String why) {
        double now = before + sink.cost(row.apply(reported));
        return now <= limit ? null : String.format(Locale.ROOT, "%s went over the hard limit: run %s reached an estimated cost of %.6f"
                + " with this step, over the hard limit of %.6f per run (budget.hardLimitPerRun of %s); its Spark application had"
                + " already finished (%s), so what it wrote stays, but the run stops here.%s", step, workflowId, now, limit, model, why,
                ADVICE);
    }
}
