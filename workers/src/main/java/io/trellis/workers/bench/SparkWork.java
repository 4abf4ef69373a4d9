package io.trellis.workers.bench;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

/**
 * Counts the Spark jobs, stages and tasks that ran between {@link #start} and {@link Counter#stop} (for benchmarks).
 * With the environment variable {@code TRELLIS_BENCH_TRACE=1} it also lists each job: its call site, stages, tasks
 * and wall time.
 */
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
        private final boolean trace = "1".equals(System.getenv("TRELLIS_BENCH_TRACE"));
        private final Map<Integer, String> jobLines = new ConcurrentSkipListMap<>();
        private final Map<Integer, Long> jobStarts = new ConcurrentHashMap<>();

        private Counter(SparkSession spark) {
            this.spark = spark;
        }

        @Override
        public void onJobStart(SparkListenerJobStart jobStart) {
            jobs.incrementAndGet();
            if (trace) {
                String site = jobStart.stageInfos().isEmpty() ? "?" : jobStart.stageInfos().apply(jobStart.stageInfos().size() - 1).name();
                jobStarts.put(jobStart.jobId(), jobStart.time());
                jobLines.put(jobStart.jobId(), String.format(Locale.ROOT, "%s, %d stage(s), %d task(s)", site,
                        jobStart.stageInfos().size(), scala.jdk.javaapi.CollectionConverters.asJava(jobStart.stageInfos()).stream()
                                .mapToInt(org.apache.spark.scheduler.StageInfo::numTasks).sum()));
            }
        }

        @Override
        public void onJobEnd(SparkListenerJobEnd jobEnd) {
            Long started = jobStarts.get(jobEnd.jobId());
            if (trace && started != null) {
                jobLines.computeIfPresent(jobEnd.jobId(), (id, line) -> line + String.format(Locale.ROOT, ", %d ms", jobEnd.time() - started));
            }
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
            StringBuilder jobList = new StringBuilder();
            jobLines.forEach((id, line) -> jobList.append(System.lineSeparator()).append("    job ").append(id).append(": ").append(line));
            return String.format(Locale.ROOT, "%d Spark jobs, %d stages, %d tasks", jobs.get(), stages.get(), tasks.get())
                    + jobList;
        }
    }
}
