package io.trellis.workers.bench;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/** Counts the Spark jobs, stages and tasks that ran between {@link #start} and {@link Counter#stop} (for benchmarks). */
final class SparkWork {
    private SparkWork() {}

    static Counter start(SparkSession spark) {
        Counter c = new Counter(spark);
        spark.sparkContext().addSparkListener(c);
        return c;
    }

    static final class Counter extends SparkListener {
        private final SparkSession spark;
        private final AtomicLong jobs = new AtomicLong();
        private final AtomicLong stages = new AtomicLong();
        private final AtomicLong tasks = new AtomicLong();

        private Counter(SparkSession spark) {
            this.spark = spark;
        }

        @Override
        public void onJobStart(SparkListenerJobStart jobStart) {
            jobs.incrementAndGet();
        }

        @Override
        public void onStageCompleted(SparkListenerStageCompleted stageCompleted) {
            stages.incrementAndGet();
        }

        @Override
        public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
            tasks.incrementAndGet();
        }

        /** Stops counting (after the listener bus has delivered what ran) and says what was counted. */
        String stop() {
            try {
                spark.sparkContext().listenerBus().waitUntilEmpty();
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("Spark's listener bus did not drain", e);
            }
            spark.sparkContext().removeSparkListener(this);
            return String.format(Locale.ROOT, "%d Spark jobs, %d stages, %d tasks", jobs.get(), stages.get(), tasks.get());
        }
    }
}
