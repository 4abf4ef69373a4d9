package io.trellis.activities.spark.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.metadata.PriceSheet;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.usage.ResourceUsage;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The cluster-mode hard limit's decisions, priced through a {@link UsageSink} as in local mode: the run's recorded cost
 * (read once) plus this attempt's usage, against {@code budget.hardLimitPerRun}.
 */
class RunLimitTest {
    /** 36 per core-hour: one second of executor run time costs 0.01. */
    private static final PriceSheet PRICES = new PriceSheet("USD", 36.0, 0, 0, 0);
    private static final String RUN = "retrain/customer-churn/20261202-0500";
    private static final Function<ResourceUsage, ResourceUsageRecord> ROW = u -> ClusterUsage.record(RUN, "r1", "5", "BuildFeatures", 1,
            "build features", "trellis build features " + RUN + " attempt 1", labels(1.0), UsageOutcome.SUCCEEDED,
            new ClusterUsage.Reported(null, u), 0);

    private static UsageLabels labels(Double limit) {
        return new UsageLabels("customer-churn", "dev", limit);
    }

    private static ResourceUsage runMillis(long millis) {
        return new ResourceUsage(1, 4, 0, millis, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** A sink whose run has already cost {@code spent}; reads of it are counted. */
    private static class Sink implements UsageSink {
        final double spent;
        int reads;

        Sink(double spent) {
            this.spent = spent;
        }

        @Override
        public void record(ResourceUsageRecord usage) {}

        @Override
        public double recordedCost(String workflowId) {
            assertThat(workflowId).isEqualTo(RUN);
            reads++;
            return spent;
        }

        @Override
        public double cost(ResourceUsageRecord usage) {
            return PRICES.cost(usage);
        }
    }

    @Test
    void earlierAttemptsPlusThisApplicationsUsageAreCheckedAgainstTheLimit() {
        Sink sink = new Sink(0.6);
        RunLimit limit = RunLimit.of("build features", RUN, labels(1.0), sink, ROW);

        assertThat(limit.beforeStart()).isNull();
        assertThat(limit.whileRunning(runMillis(30_000))).as("0.6 + 0.3").isNull();
        assertThat(limit.whileRunning(runMillis(39_000))).as("0.6 + 0.39").isNull();
        assertThat(limit.whileRunning(runMillis(41_000))).isEqualTo("build features cancelled: run " + RUN + " reached an estimated"
                + " cost of 1.010000, over the hard limit of 1.000000 per run (budget.hardLimitPerRun of customer-churn); its Spark"
                + " application was stopped and killed while its jobs ran. Raise the limit in the spec, or reduce the input.");
        assertThat(limit.afterEnd(runMillis(10_000), "it ended between two checks of its live usage")).isNull();
        assertThat(limit.afterEnd(runMillis(50_000), "in cluster deploy mode the driver's REST API is not reachable"))
                .startsWith("build features went over the hard limit: run " + RUN + " reached an estimated cost of 1.100000 with this"
                        + " step, over the hard limit of 1.000000")
                .contains("(in cluster deploy mode the driver's REST API is not reachable), so what it wrote stays, but the run stops here");
        assertThat(sink.reads).as("the run's recorded cost is read once per attempt").isEqualTo(1);
    }

    @Test
    void aRunAlreadyOverItsLimitStartsNothingMore() {
        RunLimit limit = RunLimit.of("train", RUN, labels(1.0), new Sink(1.25), ROW);

        assertThat(limit.beforeStart()).isEqualTo("train not started: run " + RUN + " has already reached an estimated cost of 1.250000,"
                + " over the hard limit of 1.000000 per run (budget.hardLimitPerRun of customer-churn). Raise the limit in the spec, or"
                + " reduce the input.");
    }

    @Test
    void noLimitWithoutOneInTheSpecWithoutAccountingOrWithoutTheRecordedCost() {
        assertThat(RunLimit.of("train", RUN, labels(null), new Sink(5), ROW)).isNull();
        assertThat(RunLimit.of("train", RUN, labels(1.0), UsageSink.NONE, ROW)).isNull();
        UsageSink unreadable = new Sink(0) {
            @Override
            public double recordedCost(String workflowId) {
                throw new IllegalStateException("database down");
            }
        };
        assertThat(RunLimit.of("train", RUN, labels(1.0), unreadable, ROW)).as("like local mode: not enforced, never failing").isNull();
    }
}
