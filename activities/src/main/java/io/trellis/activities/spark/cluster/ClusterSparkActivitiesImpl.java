package io.trellis.activities.spark.cluster;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.spark.SparkActivitiesImpl;
import io.trellis.activities.spark.UsageLabels;
import io.trellis.activities.spark.UsageSink;
import io.trellis.spark.Lake;
import io.trellis.spark.evaluate.EvaluateJob;
import io.trellis.spark.features.FeatureJob;
import io.trellis.spark.train.TrainJob;
import io.trellis.spark.validate.ValidateJob;
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
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
    private final Lake lake;
    private final ArtifactStore artifacts;
    private final ClusterSteps steps;

    public ClusterSparkActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts) {
        this(launcher, lake, artifacts, UsageSink.NONE);
    }

    /** With accounting: each attempt's application usage (from its report) goes to {@code usageSink}, as in local mode. */
    public ClusterSparkActivitiesImpl(SparkSubmitLauncher launcher, Lake lake, ArtifactStore artifacts, UsageSink usageSink) {
        this.lake = lake;
        this.artifacts = artifacts;
        this.steps = new ClusterSteps(launcher, usageSink);
    }

    @Override
    public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
        Path dir = steps.attemptDir();
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
        Path dir = steps.attemptDir();
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
        Path dir = steps.attemptDir();
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
        Path dir = steps.attemptDir();
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

    /** Submits the step's job ({@link ClusterSteps#submit}), its usage accounted to training and its run's hard limit enforced. */
    private JsonNode submit(String step, String stepKey, ModelSpec spec, Path dir, Class<?> mainClass, List<String> args) {
        return steps.submit(step, stepKey, spec, UsageLabels.training(spec), dir, mainClass, args);
    }

    private static Map<String, Double> metrics(JsonNode node) {
        return JSON.convertValue(node, new TypeReference<Map<String, Double>>() {});
    }

    private static String spec(Path dir, ModelSpec spec) {
        return ClusterSteps.spec(dir, spec);
    }

    private static void overrides(Path dir, RetrainOverrides overrides, List<String> args) {
        if (overrides != null && !overrides.noOverrides()) {
            args.addAll(List.of("--overrides", ClusterSteps.write(dir.resolve("overrides.json"), overrides)));
        }
    }

    private static String text(JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asText() : null;
    }
}
