package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.temporal.failure.ApplicationFailure;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.JobMain;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every cluster-mode Spark activity shares (the retrain's steps, {@link ClusterSparkActivitiesImpl}, and scoring,
 * {@link ClusterScoringActivitiesImpl}): the attempt's own folder, the spec written for the job, and one submission
 * through {@link SparkSubmitLauncher} with the spec's resources, the attempt's usage recorded under its
 * {@link UsageLabels} and the run's hard cost limit ({@link RunLimit}) enforced.
 */
final class ClusterSteps {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper RESULTS = new ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final Logger log = LoggerFactory.getLogger(ClusterSteps.class);
    /** How long a step waits for its usage row to be written before leaving the write to the background. */
    private static final Duration USAGE_WRITE_WAIT = Duration.ofSeconds(5);
    private final SparkSubmitLauncher launcher;
    private final UsageSink usageSink;
    private final ExecutorService usageWrites = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "trellis-cluster-usage");
        t.setDaemon(true);
        return t;
    });

    ClusterSteps(SparkSubmitLauncher launcher, UsageSink usageSink) {
        this.launcher = launcher;
        this.usageSink = usageSink;
    }

    /** This activity attempt's own folder under the work dir (spec, models, report, log). */
    Path attemptDir() {
        return launcher.attemptDir();
    }

    /**
     * Submits the step's job with the spec's resources for {@code stepKey} (a {@link ModelSpec.Resources#STEPS} name; any
     * other name gets the spec's defaults) and, with accounting on, records the attempt's usage under {@code labels} whatever
     * its outcome (retries and cancelled attempts count) and enforces the run's hard cost limit of {@code labels}
     * ({@link RunLimit}): a run already over it submits nothing more; a running application that takes it over (live
     * estimate, client deploy mode) is stopped and killed; an application whose report takes it over fails its step. Each
     * fails the activity non-retryably with {@code BUDGET_EXCEEDED}, the attempt recorded {@code OVER_LIMIT}, as in local
     * mode. Returns the report's {@code result}.
     */
    JsonNode submit(String step, String stepKey, ModelSpec spec, UsageLabels labels, Path dir, Class<?> mainClass, List<String> args) {
        ModelSpec.Resources resources = spec.resources() == null ? null : spec.resources().forStep(stepKey);
        if (usageSink == UsageSink.NONE) {
            return launcher.run(step, mainClass, args, resources);
        }
        ActivityInfo info = Activity.getExecutionContext().getInfo();
        String appName = SparkSubmitLauncher.appName(step, info);
        RunLimit limit = RunLimit.of(step, info.getWorkflowId(), labels, usageSink, u -> ClusterUsage.record(info.getWorkflowId(),
                info.getRunId(), info.getActivityId(), info.getActivityType(), info.getAttempt(), step, appName, labels,
                UsageOutcome.SUCCEEDED, new ClusterUsage.Reported(null, u), 0));
        String already = limit == null ? null : limit.beforeStart();
        if (already != null) {
            log.info("{}", already);
            throw ApplicationFailure.newNonRetryableFailure(already, ErrorCode.BUDGET_EXCEEDED.name());
        }
        Path report = dir.resolve(SparkSubmitLauncher.REPORT_FILE);
        long started = System.nanoTime();
        UsageOutcome outcome = UsageOutcome.FAILED;
        ClusterUsage.Reported live = null;
        try {
            JsonNode result = launcher.run(step, mainClass, args, resources, limit == null ? null : limit::whileRunning);
            outcome = UsageOutcome.SUCCEEDED;
            String over = limit == null ? null : limit.afterEnd(ClusterUsage.read(report).usage(), unchecked());
            if (over != null) {
                outcome = UsageOutcome.OVER_LIMIT;
                throw ApplicationFailure.newNonRetryableFailure(over, ErrorCode.BUDGET_EXCEEDED.name());
            }
            return result;
        } catch (ActivityCompletionException cancelled) {
            outcome = UsageOutcome.CANCELLED;
            throw cancelled;
        } catch (SparkSubmitLauncher.OverLimit over) {
            outcome = UsageOutcome.OVER_LIMIT;
            live = new ClusterUsage.Reported(over.applicationId(), over.usage());
            throw ApplicationFailure.newNonRetryableFailure(over.getMessage(), ErrorCode.BUDGET_EXCEEDED.name());
        } finally {
            ClusterUsage.Reported reported = ClusterUsage.read(report);
            long wallMillis = (System.nanoTime() - started) / 1_000_000;
            ResourceUsageRecord row = ClusterUsage.record(info.getWorkflowId(), info.getRunId(), info.getActivityId(),
                    info.getActivityType(), info.getAttempt(), step, appName, labels, outcome, reported, wallMillis);
            if (live != null) {
                // Stopped over the limit: a stopped job may still have written its report's usage (its job group only), but
                // the row must not price below the live estimate that stopped it (the whole application): the larger one.
                ResourceUsageRecord estimated = ClusterUsage.record(info.getWorkflowId(), info.getRunId(), info.getActivityId(),
                        info.getActivityType(), info.getAttempt(), step, appName, labels, outcome, live, wallMillis);
                row = usageSink.cost(row) >= usageSink.cost(estimated) && reported.usage().tasks() > 0 ? row : estimated;
            }
            recordUsage(row);
        }
    }

    /** Why an application that ended over the hard limit was not stopped while it ran. */
    private String unchecked() {
        return launcher.settings().deployMode() == SparkSubmitSettings.DeployMode.CLUSTER
                ? "in cluster deploy mode the driver's REST API is not reachable, so its usage was known only when it ended"
                : "it ended between two checks of its live usage";
    }

    /**
     * Never fails the step; like local mode, a slow database must not hold the activity past its heartbeat timeout, so the
     * write goes on in the background after {@link #USAGE_WRITE_WAIT}.
     */
    private void recordUsage(ResourceUsageRecord attempt) {
        Future<?> write = usageWrites.submit(() -> {
            try {
                usageSink.record(attempt);
            } catch (RuntimeException e) {
                log.warn("Resource usage of {} not recorded: {}", attempt.sparkJobGroup(), e.toString());
            }
        });
        try {
            write.get(USAGE_WRITE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException slow) {
            log.warn("Resource usage of {} is taking over {} s to record; it is recorded in the background", attempt.sparkJobGroup(),
                    USAGE_WRITE_WAIT.toSeconds());
        } catch (ExecutionException unexpected) {
            log.warn("Resource usage of {} not recorded: {}", attempt.sparkJobGroup(), unexpected.getCause().toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Writes the spec record for the job; the {@link JobMain#SPEC_JSON_SUFFIX} tells the job it is JSON, not YAML. */
    static String spec(Path dir, ModelSpec spec) {
        return write(dir.resolve(spec.name() + JobMain.SPEC_JSON_SUFFIX), spec);
    }

    /** A job report's {@code result} as the record {@code type} (fields it does not know are ignored). */
    static <T> T read(JsonNode result, Class<T> type) {
        try {
            return RESULTS.treeToValue(result, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the " + type.getSimpleName() + " in the job's report is not readable: " + e.getMessage(), e);
        }
    }

    /** Writes {@code value} as JSON to {@code file} and returns the file's path. */
    static String write(Path file, Object value) {
        try {
            JSON.writeValue(file.toFile(), value);
            return file.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
