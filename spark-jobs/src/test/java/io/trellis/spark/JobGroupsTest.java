package io.trellis.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spark.testing.TestingSpark;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class JobGroupsTest {
    private final SparkSession spark = TestingSpark.session();
    private final SparkContext sc = spark.sparkContext();

    @Test
    void progressCountsTheGroupsFinishedJobs() {
        long n = JobGroups.run(sc, "progress-test", "count a range", () -> spark.range(0, 1000, 1, 2).count());

        SparkProgress progress = SparkProgress.of(sc, "progress-test");
        assertThat(n).isEqualTo(1000);
        assertThat(progress.jobsRunning()).isZero();
        assertThat(progress.jobsDone()).isPositive();
        assertThat(progress.tasksTotal()).isPositive();
        assertThat(progress.tasksDone()).isEqualTo(progress.tasksTotal());
        assertThat(progress.stagesDone()).isEqualTo(progress.stagesTotal());
        assertThat(SparkProgress.of(sc, "no-such-group")).isEqualTo(new SparkProgress(0, 0, 0, 0, 0, 0));
        assertThat(sc.getLocalProperty("spark.jobGroup.id")).isNull();
    }

    @Test
    void anotherThreadSeesTheJobRunningAndCancelsIt() throws Exception {
        CompletableFuture<Long> job = CompletableFuture.supplyAsync(() -> JobGroups.run(sc, "cancel-test", "slow", () ->
                spark.range(0, 2, 1, 2).map((MapFunction<Long, Long>) x -> {
                    Thread.sleep(60_000); // a task that only ends when interrupted by the cancellation
                    return x;
                }, Encoders.LONG()).count()));

        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        SparkProgress progress = SparkProgress.of(sc, "cancel-test");
        while (progress.jobsRunning() == 0 && Instant.now().isBefore(deadline)) {
            Thread.onSpinWait();
            progress = SparkProgress.of(sc, "cancel-test");
        }
        assertThat(progress.jobsRunning()).isEqualTo(1);
        assertThat(progress.tasksDone()).isZero();

        sc.cancelJobGroup("cancel-test");
        assertThatThrownBy(() -> job.get(30, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("cancel");
    }
}
