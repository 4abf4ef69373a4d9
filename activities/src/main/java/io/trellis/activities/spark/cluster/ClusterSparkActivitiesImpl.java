package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.activities.artifacts.ArtifactStore;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.temporal.failure.ApplicationFailure;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.metadata.ResourceUsageRecord;
import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import io.trellis.spark.JobMain;
import io.trellis.spark.Lake;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.train.TrainJob;
import io.trellis.spark.validate.ValidateJob;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.RetrainOverrides;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The retrain's Spark activities in cluster mode: each submits its job's {@code main} from the shaded {@code spark-jobs}
 * jar ({@link SparkSubmitLauncher}) instead of running the job's core on the worker's own session (local mode,
 * {@link SparkActivitiesImpl}). Same activity interface, same tables and artifact keys, same idempotency (the feature
 * write is keyed by the run key), so the workflow cannot tell the modes apart; which one a worker runs is chosen by
 * {@code trellis.spark.mode} alone. The spec goes to the job as the JSON record the workflow holds, so the job runs on
 * exactly that spec. Each job gets the spec's {@code resources} for its step on its command line (over the worker's
 * {@code trellis.spark.executor.*} settings), and, with accounting on, each attempt's usage (what the job's report says
 * its Spark tasks used) is recorded through the same {@link UsageSink} as local mode, and the run's hard cost limit is
 * enforced ({@link RunLimit}: live from the driver's REST API in client deploy mode, from the report when an application
 * ends). Not here: OpenLineage events.
 */
public final class ClusterSparkActivitiesImpl implements SparkActivities {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Logger log = LoggerFactory.getLogger(ClusterSparkActivitiesImpl.class);
    /** How long a step waits for its usage row to be written before leaving the write to the background. */
    private static final Duration USAGE_WRITE_WAIT = Duration.ofSeconds(5);
    private final SparkSubmitLauncher launcher;
    private final Lake lake;
    private final ArtifactStore artifacts;
    private final UsageSink usageSink;
    private final ExecutorService usageWrites = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "trellis-cluster-usage");
        t.setDaemon(true);
        return t;
    });

    public ClusterSparkActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts) {
        this(launcher, lake, artifacts, UsageSink.NONE);
    }

    /** With accounting: each attempt's application usage (from its report) goes to {@code usageSink}, as in local mode. */
    public ClusterSparkActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts, UsageSink usageSink) {
        this.launcher = launcher;
        this.lake = lake;
        this.artifacts = artifacts;
        this.usageSink = usageSink;
    }

    @Override
    public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
        Path dir = launcher.attemptDir();
        List<String> args = new ArrayList<>(List.of("--spec", spec(dir, request.spec()),
                "--table", lake.resolve(request.spec().source().table())));
        overrides(dir, request.overrides(), args);
        JsonNode r = submit("snapshot + validate", "validate", request.spec(), dir, ValidateJob.class, args);
        List<RuleResult> rules = new ArrayList<>();
        for (JsonNode rule : r.path("results")) {
            rules.add(new RuleResult(rule.path("rule").asText(), text(rule, "column"), text(rule, "observed"), text(rule, "allowed"),
                    rule.path("passed").asBoolean()));
        }
        return new SnapshotResult(new DatasetRef(r.path("tablePath").asText(), r.path("deltaVersion").asLong(), r.path("rowCount").asLong()),
                r.path("passed").asBoolean(), rules);
    }

    @Override
    public FeatureResult buildFeatures(FeatureRequest request) {
        Path dir = launcher.attemptDir();
        List<String> args = new ArrayList<>(List.of("--spec", spec(dir, request.spec()),
                "--table", request.source().tablePath(),
                "--source-version", Long.toString(request.source().version()),
                "--features", SparkActivitiesImpl.featureTable(lake, request.spec().name()),
                "--run-key", request.runKey()));
        overrides(dir, request.overrides(), args);
        JsonNode r = submit("build features", "features", request.spec(), dir, FeatureJob.class, args);
        long train = r.path("trainRows").asLong();
        long holdout = r.path("holdoutRows").asLong();
        return new FeatureResult(new DatasetRef(r.path("tablePath").asText(), r.path("version").asLong(), train + holdout), train, holdout);
    }

    @Override
    public TrainResult train(TrainRequest request) {
        Path dir = launcher.attemptDir();
        Path model = dir.resolve("model");
        try {
            JsonNode r = submit("train", "train", request.spec(), dir, TrainJob.class, List.of("--spec", spec(dir, request.spec()),
                    "--features", request.features().tablePath(),
                    "--features-version", Long.toString(request.features().version()),
                    "--model", model.toUri().toString()));
            ArtifactRef artifact = artifacts.put(SparkActivitiesImpl.artifactKey(request.spec().name(), request.runKey()), model);
            Map<String, String> params = JSON.convertValue(r.path("params"), new TypeReference<Map<String, String>>() {});
            return new TrainResult(artifact, r.path("algorithm").asText(), params, r.path("trainRows").asLong(), r.path("millis").asLong());
        } finally {
            SparkActivitiesImpl.deleteScratch(model);
        }
    }

    @Override
    public EvaluationResult evaluate(EvaluateRequest request) {
        Path dir = launcher.attemptDir();
        List<String> args = new ArrayList<>(List.of("--spec", spec(dir, request.spec()),
                "--features", request.features().tablePath(),
                "--features-version", Long.toString(request.features().version()),
                "--candidate", artifacts.fetch(request.candidate()).toUri().toString()));
        String championNote = null;
        if (request.champion() != null) {
            try {
                args.addAll(List.of("--champion", artifacts.fetch(request.champion().artifact()).toUri().toString()));
            } catch (RuntimeException e) {
                championNote = "champion v" + request.champion().version() + " not compared: " + e.getMessage();
            }
        }
        JsonNode r = submit("evaluate", "evaluate", request.spec(), dir, EvaluateJob.class, args);
        Map<String, Double> candidate = metrics(r.path("candidate"));
        Map<String, Double> champion = r.path("champion").isObject() ? metrics(r.path("champion")) : null;
        if (r.hasNonNull("championError")) {
            championNote = "champion v" + request.champion().version() + " could not score this holdout: " + r.get("championError").asText();
        }
        return new EvaluationResult(candidate, champion == null ? null : request.champion().version(), champion, championNote,
                r.path("holdoutRows").asLong());
    }

    /**
     * Submits the step's job with the spec's resources for {@code stepKey} (a {@link ModelSpec.Resources#STEPS} name) and,
     * with accounting on, records the attempt's usage whatever its outcome (retries and cancelled attempts count) and
     * enforces the run's hard cost limit ({@link RunLimit}): a run already over it submits nothing more; a running
     * application that takes it over (live estimate, client deploy mode) is stopped and killed; an application whose report
     * takes it over fails its step. Each fails the activity non-retryably with {@code BUDGET_EXCEEDED}, the attempt recorded
     * {@code OVER_LIMIT}, as in local mode.
     */
    private JsonNode submit(String step, String stepKey, ModelSpec spec, Path dir, Class<?> mainClass, List<String> args) {
        ModelSpec.Resources resources = spec.resources() == null ? null : spec.resources().forStep(stepKey);
        if (usageSink == UsageSink.NONE) {
            return launcher.run(step, mainClass, args, resources);
        }
        ActivityInfo info = Activity.getExecutionContext().getInfo();
        UsageLabels labels = UsageLabels.training(spec);
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

    private static Map<String, Double> metrics(JsonNode node) {
        return JSON.convertValue(node, new TypeReference<Map<String, Double>>() {});
    }

    /** Writes the spec record for the job; the {@link JobMain#SPEC_JSON_SUFFIX} tells the job it is JSON, not YAML. */
    private static String spec(Path dir, ModelSpec spec) {
        return write(dir.resolve(spec.name() + JobMain.SPEC_JSON_SUFFIX), spec);
    }

    private static void overrides(Path dir, RetrainOverrides overrides, List<String> args) {
        if (overrides != null && !overrides.noOverrides()) {
            args.addAll(List.of("--overrides", write(dir.resolve("overrides.json"), overrides)));
        }
    }

    private static String write(Path file, Object value) {
        try {
            JSON.writeValue(file.toFile(), value);
            return file.toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static String text(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asText() : null;
    }
}
