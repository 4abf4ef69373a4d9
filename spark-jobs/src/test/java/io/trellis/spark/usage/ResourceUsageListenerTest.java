package io.trellis.spark.usage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.JobGroups;
import io.trellis.spark.testing.TestingSpark;
import io.trellis.spark.testing.TestingStatusStore;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/** The listener's totals against Spark's own status store (what the Spark UI shows) for the same job group. */
class ResourceUsageListenerTest {
    private final SparkSession spark = TestingSpark.session();
    private final SparkContext sc = spark.sparkContext();
    private final ResourceUsageListener listener = ResourceUsageListener.on(sc);

    @Test
    void oneListenerPerContext() {
        assertThat(ResourceUsageListener.on(sc)).isSameAs(listener);
    }

    @Test
    void readWriteAndShuffleMatchSparksStatusStore() {
        String table = TestingSpark.newLake().resolve("t").toUri().toString();
        JobGroups.run(sc, "usage-write", "write", () -> {
            spark.range(0, 50_000, 1, 4).withColumn("k", functions.col("id").mod(97)).write().format("delta").save(table);
            return null;
        });
        long groups = JobGroups.run(sc, "usage-read", "read and aggregate", () ->
                spark.read().format("delta").load(table).groupBy("k").count().collectAsList().size());
        // A group nobody asked about at the same time must not leak into these.
        JobGroups.run(sc, "usage-other", "other", () -> spark.range(0, 1000, 1, 2).count());
        assertThat(listener.awaitEvents(Duration.ofSeconds(30))).isTrue();

        ResourceUsage write = listener.take("usage-write");
        ResourceUsage read = listener.take("usage-read");
        assertThat(groups).isEqualTo(97);
        assertThat(write).isEqualTo(TestingStatusStore.usage(sc, "usage-write"));
        assertThat(read).isEqualTo(TestingStatusStore.usage(sc, "usage-read"));
        assertThat(write.recordsWritten()).isEqualTo(50_000);
        assertThat(write.bytesWritten()).isPositive();
        assertThat(read.recordsRead()).isGreaterThanOrEqualTo(50_000); // plus the Delta log's own rows
        assertThat(read.bytesRead()).isPositive();
        assertThat(read.shuffleWriteBytes()).isPositive();
        assertThat(read.shuffleReadBytes()).isEqualTo(read.shuffleWriteBytes());
        assertThat(read.executorRunMillis()).isPositive();
        assertThat(read.executorCpuNanos()).isPositive();
        assertThat(read.peakExecutionMemoryBytes()).isPositive();
        assertThat(listener.take("usage-read")).isEqualTo(ResourceUsage.NONE);
        listener.take("usage-other");
    }

    @Test
    void aCancelledGroupCountsItsKilledTasks() throws Exception {
        CompletableFuture<Long> job = CompletableFuture.supplyAsync(() -> JobGroups.run(sc, "usage-cancel", "slow", () ->
                spark.range(0, 2, 1, 2).map((MapFunction<Long, Long>) x -> {
                    Thread.sleep(60_000); // ends only when the cancellation interrupts it
                    return x;
                }, Encoders.LONG()).count()));
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (sc.statusTracker().getJobIdsForGroup("usage-cancel").length == 0 && Instant.now().isBefore(deadline)) {
            Thread.onSpinWait();
        }
        Thread.sleep(500); // let the tasks start running before they are killed
        sc.cancelJobGroup("usage-cancel");
        assertThatThrownBy(() -> job.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);

        deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (listener.current("usage-cancel").tasks() < 2 && Instant.now().isBefore(deadline)) {
            listener.awaitEvents(Duration.ofSeconds(1));
        }
        ResourceUsage usage = listener.take("usage-cancel");
        assertThat(usage.jobs()).isEqualTo(1);
        assertThat(usage.tasks()).isEqualTo(2);
        assertThat(usage.failedTasks()).isEqualTo(2);
        assertThat(usage.executorRunMillis()).isGreaterThanOrEqualTo(2 * 400);
    }
}
