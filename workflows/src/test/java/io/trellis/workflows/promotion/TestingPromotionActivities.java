package io.trellis.workflows.promotion;

import io.temporal.failure.ApplicationFailure;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.SampleModels;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.activities.EvaluateRequest;
import io.trellis.workflows.activities.EvaluationResult;
import io.trellis.workflows.activities.FeatureRequest;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.SnapshotRequest;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.activities.SparkActivities;
import io.trellis.workflows.activities.TrainRequest;
import io.trellis.workflows.activities.TrainResult;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hand-written fakes: a small in-memory registry that keeps the rules the real one enforces (one active
 * promotion per model and environment, approver role, four-eyes, awaiting state) and records every call.
 */
final class TestingPromotionActivities {

    static ArtifactRef artifact(int version) {
        return new ArtifactRef("file:/artifacts/customer-churn/v" + version, "sha-" + version, 100);
    }

    static final class Registry implements PromotionActivities {
        final List<String> calls = new CopyOnWriteArrayList<>();
        final List<StageReport> stages = new CopyOnWriteArrayList<>();
        final Map<String, Integer> live = new ConcurrentHashMap<>();
        final Map<String, String> active = new ConcurrentHashMap<>();
        final Map<String, String> statuses = new ConcurrentHashMap<>();
        final Map<String, ApprovalDecision> decisions = new ConcurrentHashMap<>();
        final Set<String> approvers = ConcurrentHashMap.newKeySet();
        volatile String trainedBy = "alice";
        volatile boolean artifactIntact = true;

        Registry() {
            approvers.add("bob");
            approvers.add("alice");
        }

        @Override
        public synchronized PromotionContext begin(String key, PromotionRequest r) {
            calls.add("begin:" + key);
            String slot = r.modelName() + "/" + r.targetEnvironment();
            String other = active.get(slot);
            if (other != null && !other.equals(key)) {
                throw ApplicationFailure.newNonRetryableFailure("another promotion of " + r.modelName() + " to "
                        + r.targetEnvironment() + " is in progress: " + other, ErrorCode.PROMOTION_CONFLICT.name());
            }
            active.put(slot, key);
            statuses.put(key, "RUNNING");
            List<String> envs = List.of("dev", "staging", "production");
            List<String> stagesToPass = envs.subList(1, envs.indexOf(r.targetEnvironment()) + 1).stream()
                    .filter(e -> !Integer.valueOf(r.version()).equals(live.get(e))).toList();
            return new PromotionContext(key, r.modelName(), r.version(), SampleModels.customerChurn(), trainedBy, true,
                    artifact(r.version()), new DatasetRef("/lake/features/customer-churn", r.version(), 1000), stagesToPass);
        }

        @Override
        public ChampionRef liveVersion(String modelName, String environment) {
            Integer v = live.get(environment);
            return v == null ? null : new ChampionRef(v, environment, artifact(v));
        }

        @Override
        public ArtifactCheck verifyArtifact(ArtifactRef artifact) {
            return artifactIntact
                    ? new ArtifactCheck(artifact.sha256(), artifact.sha256(), true, "checksum matches")
                    : new ArtifactCheck(artifact.sha256(), "tampered", false, "expected " + artifact.sha256() + ", found tampered");
        }

        @Override
        public void recordStage(String key, StageReport report) {
            calls.add("recordStage:" + report.environment() + ":" + (report.passed() ? "passed" : "failed"));
            stages.add(report);
        }

        @Override
        public void awaitApproval(String key) {
            calls.add("awaitApproval");
            statuses.put(key, "AWAITING_APPROVAL");
        }

        @Override
        public synchronized void recordDecision(String key, ApprovalDecision d) {
            calls.add("recordDecision:" + d.approver() + ":" + d.verdict());
            if (!"AWAITING_APPROVAL".equals(statuses.get(key))) {
                throw ApplicationFailure.newNonRetryableFailure("promotion " + key + " is not awaiting approval",
                        ErrorCode.INVALID_STATE.name());
            }
            ApprovalDecision previous = decisions.get(key);
            if (previous != null && !(previous.approver().equals(d.approver()) && previous.verdict() == d.verdict())) {
                throw ApplicationFailure.newNonRetryableFailure("promotion " + key + " was already decided by "
                        + previous.approver(), ErrorCode.INVALID_STATE.name());
            }
            if (!approvers.contains(d.approver())) {
                throw ApplicationFailure.newNonRetryableFailure(d.approver() + " does not hold the approver role",
                        ErrorCode.FORBIDDEN.name());
            }
            if (d.approver().equals(trainedBy)) {
                throw ApplicationFailure.newNonRetryableFailure("four-eyes: " + d.approver()
                        + " triggered the retrain that produced this version and cannot approve it", ErrorCode.FORBIDDEN.name());
            }
            decisions.put(key, d);
        }

        @Override
        public void deploy(String key, String environment, String actor) {
            calls.add("deploy:" + environment + ":" + actor);
            Integer previous = live.get(environment);
            if (previous != null) {
                history.computeIfAbsent(environment, e -> new java.util.ArrayDeque<>()).add(previous);
            }
            live.put(environment, Integer.parseInt(key.replaceAll(".*/v(\\d+)/.*", "$1")));
        }

        @Override
        public synchronized void finish(String key, PromotionStatus status, String message, String actor) {
            calls.add("finish:" + status);
            statuses.put(key, status.name());
            active.values().remove(key);
        }

        final Map<String, java.util.Deque<Integer>> history = new ConcurrentHashMap<>();

        @Override
        public synchronized RollbackResult rollback(RollbackRequest r) {
            calls.add("rollback:" + r.environment() + ":" + r.requestedBy());
            java.util.Deque<Integer> past = history.getOrDefault(r.environment(), new java.util.ArrayDeque<>());
            Integer current = live.get(r.environment());
            Integer target = r.toVersion() != null ? r.toVersion() : past.peekLast();
            if (target == null || (r.toVersion() != null && !past.contains(r.toVersion()))) {
                throw ApplicationFailure.newNonRetryableFailure("no earlier live version of " + r.modelName() + " in "
                        + r.environment() + " to roll back to", ErrorCode.INVALID_STATE.name());
            }
            live.put(r.environment(), target);
            return new RollbackResult(r.modelName(), r.environment(), target, current);
        }

        @Override
        public ScoringTarget scoringTarget(String modelName, String environment) {
            ChampionRef live = liveVersion(modelName, environment);
            if (live == null) {
                throw ApplicationFailure.newNonRetryableFailure("nothing is live in " + environment, ErrorCode.INVALID_STATE.name());
            }
            return new ScoringTarget(SampleModels.customerChurn(), live);
        }

        @Override
        public void recordScoring(String runKey, String modelName, String environment, int version, BatchScoreResult result,
                                  String actor) {
            calls.add("recordScoring:" + environment + ":v" + version + ":" + result.rows());
        }
    }

    static final class Spark implements SparkActivities {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile Map<String, Double> candidate = Map.of("auc", 0.84, "log_loss", 0.40);
        volatile Map<String, Double> champion = Map.of("auc", 0.82, "log_loss", 0.42);

        @Override
        public EvaluationResult evaluate(EvaluateRequest r) {
            calls.add("evaluate:" + (r.champion() == null ? "no-champion" : "v" + r.champion().version()));
            return r.champion() == null
                    ? new EvaluationResult(candidate, null, null, null, 1000)
                    : new EvaluationResult(candidate, r.champion().version(), champion, null, 1000);
        }

        @Override
        public SnapshotResult snapshotAndValidate(SnapshotRequest request) {
            throw new UnsupportedOperationException("not used by promotions");
        }

        @Override
        public FeatureResult buildFeatures(FeatureRequest request) {
            throw new UnsupportedOperationException("not used by promotions");
        }

        @Override
        public TrainResult train(TrainRequest request) {
            throw new UnsupportedOperationException("not used by promotions");
        }
    }

    static final class Scoring implements ScoringActivities {
        final List<ShadowRequest> requests = new CopyOnWriteArrayList<>();
        final List<BatchScoreRequest> batchRequests = new CopyOnWriteArrayList<>();

        @Override
        public ShadowResult shadowScore(ShadowRequest r) {
            requests.add(r);
            Integer prod = r.production() == null ? null : r.production().version();
            return new ShadowResult(new DatasetRef("/lake/predictions/customer-churn/" + r.environment(), 0, 600), 300,
                    r.candidateVersion(), prod, prod == null ? null : 0.97, prod == null ? null : 0.01,
                    prod == null ? null : 0.02, 1200, prod == null ? null : 1100L,
                    "/lake/raw/customer-churn", 9L);
        }

        @Override
        public BatchScoreResult batchScore(BatchScoreRequest r) {
            batchRequests.add(r);
            return new BatchScoreResult(new DatasetRef("/lake/predictions/customer-churn/" + r.environment(), 3, 250), 250,
                    "2025-01-08", "2025-01-10", "/lake/raw/customer_churn", 9, 800);
        }
    }

    private TestingPromotionActivities() {}
}
