package io.trellis.workflows.retrain;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.ModelDefinition;
import io.trellis.workflows.activities.RegisterRequest;
import io.trellis.workflows.activities.RegisteredVersion;
import io.trellis.workflows.activities.RegistryActivities;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.RunOutcome;
import io.trellis.workflows.activities.RunStart;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import io.trellis.workflows.monitor.DriftActivities;
import io.trellis.workflows.monitor.DriftResult;
import io.trellis.workflows.monitor.MonitorActivities;
import io.trellis.workflows.monitor.MonitorRecord;
import io.trellis.workflows.monitor.MonitorTarget;
import io.trellis.workflows.monitor.RetrainGuardState;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Hand-written fakes of the activity interfaces a retrain calls: they record every call and answer as a test sets them
 * up. {@link Reference} stands in for the two monitoring steps that store a new version's reference profile.
 */
final class TestingRetrainActivities {

    static final class Registry implements RegistryActivities {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<RunOutcome> outcomes = new CopyOnWriteArrayList<>();
        final List<RegisterRequest> registrations = new CopyOnWriteArrayList<>();
        final List<RunStart> starts = new CopyOnWriteArrayList<>();
        volatile ChampionRef champion;
        volatile Function<RunStart, ModelDefinition> onStart = start -> new ModelDefinition(start.modelName(),
                SampleModels.customerChurn(), "sha", champion);

        @Override
        public ModelDefinition startRun(RunStart start) {
            calls.add("startRun");
            starts.add(start);
            return onStart.apply(start);
        }

        @Override
        public void recordSnapshot(String runKey, SnapshotResult snapshot) {
            calls.add("recordSnapshot");
        }

        @Override
        public void recordFeatures(String runKey, FeatureResult features) {
            calls.add("recordFeatures");
        }

        @Override
        public RegisteredVersion registerModelVersion(RegisterRequest request) {
            calls.add("registerModelVersion");
            registrations.add(request);
            return new RegisteredVersion(champion == null ? 1 : champion.version() + 1, true);
        }

        @Override
        public void markCandidate(String runKey, String modelName, int version, String environment, String actor) {
            calls.add("markCandidate:" + environment + ":v" + version);
        }

        @Override
        public void finishRun(RunOutcome outcome) {
            calls.add("finishRun:" + outcome.status());
            outcomes.add(outcome);
        }
    }

    static final class Spark implements SparkActivities {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final AtomicInteger featureAttempts = new AtomicInteger();
        volatile boolean dataValid = true;
        volatile int featureFailuresBeforeSuccess = 0;
        volatile RuntimeException trainFailure;
        volatile Map<String, Double> candidateMetrics = Map.of("auc", 0.83, "log_loss", 0.41, "precision", 0.6, "recall", 0.5);
        volatile Map<String, Double> championMetrics;
        volatile Runnable duringEvaluate = () -> { };
        final List<Object> requests = new CopyOnWriteArrayList<>();

        @Override
        public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
            calls.add("snapshot");
            requests.add(request);
            DatasetRef source = new DatasetRef("/lake/raw/customer_churn", 7, 5000);
            if (dataValid) {
                return new SnapshotResult(source, true, List.of(new RuleResult("min_rows", null, "5000", "≥ 500", true)));
            }
            return new SnapshotResult(source, false, List.of(
                    new RuleResult("min_rows", null, "5000", "≥ 500", true),
                    new RuleResult("max_null_rate", "age", "12.0% null (600 of 5000)", "≤ 0.0%", false)));
        }

        @Override
        public FeatureResult buildFeatures(FeatureRequest request) {
            calls.add("features");
            requests.add(request);
            if (featureAttempts.incrementAndGet() <= featureFailuresBeforeSuccess) {
                throw new IllegalStateException("executor lost (simulated)");
            }
            return new FeatureResult(new DatasetRef("/lake/features/customer-churn", 3, 5000), 4000, 1000);
        }

        @Override
        public TrainResult train(TrainRequest request) {
            calls.add("train");
            requests.add(request);
            if (trainFailure != null) {
                throw trainFailure;
            }
            return new TrainResult(new ArtifactRef("file:/artifacts/customer-churn/run", "abc", 1234),
                    "logistic_regression", Map.of("maxIter", "50"), 4000, 10);
        }

        @Override
        public EvaluationResult evaluate(EvaluateRequest request) {
            calls.add("evaluate");
            duringEvaluate.run();
            Integer champVersion = request.champion() == null ? null : request.champion().version();
            return new EvaluationResult(candidateMetrics, champVersion, championMetrics, null, 1000);
        }
    }

    /** The reference-profile step: its Spark half (on the Spark queue) and its registry half (orchestration queue). */
    static final class Reference {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final Map<Integer, String> stored = new ConcurrentHashMap<>();
        volatile RuntimeException profileFailure;

        final DriftActivities spark = new DriftActivities() {
            @Override
            public String referenceProfile(ModelSpec spec, DatasetRef snapshot, ChampionRef live) {
                calls.add("referenceProfile:" + snapshot.tablePath() + "@" + snapshot.version() + ":v" + live.version()
                        + ":" + live.artifact().uri());
                if (profileFailure != null) {
                    throw profileFailure;
                }
                return "{\"table\":\"" + snapshot.tablePath() + "\",\"version\":" + snapshot.version() + "}";
            }

            @Override
            public DriftResult assess(ModelSpec spec, ChampionRef live, String referenceProfile,
                                      io.trellis.workflows.monitor.StoredScoresRef latestScoring) {
                throw new UnsupportedOperationException("a retrain never assesses drift");
            }
        };

        final MonitorActivities store = new MonitorActivities() {
            @Override
            public String storeReference(String modelName, int version, DatasetRef snapshot, String profile) {
                calls.add("storeReference:" + modelName + ":v" + version);
                stored.putIfAbsent(version, profile);
                return stored.get(version);
            }

            @Override
            public MonitorTarget target(String modelName, String environment) {
                throw new UnsupportedOperationException("a retrain never asks for a monitoring target");
            }

            @Override
            public RetrainGuardState retrainGuard(String modelName, long cooldownSeconds) {
                throw new UnsupportedOperationException("a retrain never asks for the retrain guard");
            }

            @Override
            public String renderReport(MonitorRecord record) {
                throw new UnsupportedOperationException("a retrain renders no monitoring report");
            }

            @Override
            public void recordRun(MonitorRecord record) {
                throw new UnsupportedOperationException("a retrain records no monitoring run");
            }
        };
    }

    private TestingRetrainActivities() {}
}
