package io.trellis.workflows.monitor;

import io.trellis.spec.ModelSpec;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Hand-written fakes of the monitoring activities: a registry in memory and a drift step returning set results. */
final class TestingMonitorActivities {
    private TestingMonitorActivities() {}

    static FeatureDriftResult feature(String name, double psi, String severity) {
        return new FeatureDriftResult(name, true, psi, 0.1, severity, 0, 0, null, List.of("< 1", "[1, ∞)"), new long[] {5, 5},
                new long[] {3, 7});
    }

    static FeatureDriftResult problem(String name, String finding) {
        return new FeatureDriftResult(name, true, null, null, FeatureDriftResult.DATA_PROBLEM, 0, 0, finding, List.of(), new long[0],
                new long[0]);
    }

    static DriftResult drift(long rows, Double predictionPsi, Double auc, FeatureDriftResult... features) {
        return new DriftResult(1000, rows, "2025-01-08", "2025-01-10", "/lake/raw/customer_churn", 9, List.of(features), predictionPsi,
                "NONE", new long[20], new long[20], auc, auc == null ? 0 : rows, List.of(),
                predictionPsi == null ? null : "predictions table /lake/predictions/customer-churn/production: run score-1 of v3");
    }

    static final class Registry implements MonitorActivities {
        final ModelSpec spec = SampleModels.customerChurn();
        volatile ChampionRef live = new ChampionRef(3, "production", new ArtifactRef("file:/artifacts/v3", "sha", 10));
        volatile DatasetRef snapshot = new DatasetRef("/lake/raw/customer_churn", 6, 1000);
        volatile String storedProfile;
        volatile Double trainingAuc = 0.80;
        volatile String runningRetrain;
        final List<MonitorRecord> recorded = new CopyOnWriteArrayList<>();
        final List<String> calls = new CopyOnWriteArrayList<>();

        @Override
        public MonitorTarget target(String modelName, String environment) {
            calls.add("target");
            return new MonitorTarget(spec, environment == null ? spec.monitoring().environment() : environment, live, trainingAuc,
                    snapshot, storedProfile, null);
        }

        @Override
        public String storeReference(String modelName, int version, DatasetRef snapshot, String profile) {
            calls.add("storeReference:v" + version + "@" + snapshot.version());
            if (storedProfile == null) {
                storedProfile = profile;
            }
            return storedProfile;
        }

        @Override
        public RetrainGuardState retrainGuard(String modelName, long cooldownSeconds) {
            calls.add("retrainGuard");
            String recent = recorded.stream().filter(r -> r.decision() == MonitorDecision.RETRAIN_STARTED)
                    .map(MonitorRecord::retrainWorkflowId).reduce((a, b) -> b).orElse(null);
            return new RetrainGuardState(runningRetrain, recent);
        }

        @Override
        public String renderReport(MonitorRecord record) {
            calls.add("renderReport");
            return "file:/artifacts/" + record.modelName() + "/monitoring/" + recorded.size() + "/report.html";
        }

        @Override
        public void recordRun(MonitorRecord record) {
            calls.add("recordRun:" + record.decision());
            recorded.add(record);
        }
    }

    static final class Drift implements DriftActivities {
        volatile DriftResult next;
        final List<String> calls = new ArrayList<>();

        @Override
        public synchronized String referenceProfile(ModelSpec spec, DatasetRef snapshot, ChampionRef live) {
            calls.add("referenceProfile:v" + live.version() + "@" + snapshot.version());
            return "{\"profile\": " + snapshot.version() + "}";
        }

        @Override
        public synchronized DriftResult assess(ModelSpec spec, ChampionRef live, String referenceProfile,
                                               StoredScoresRef latestScoring) {
            calls.add("assess:" + referenceProfile);
            return next;
        }
    }
}
