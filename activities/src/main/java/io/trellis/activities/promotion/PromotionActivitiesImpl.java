package io.trellis.activities.promotion;

import io.trellis.activities.ActivityErrors;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.registry.RegistryActivitiesImpl;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.DatasetKind;
import io.trellis.metadata.Decision;
import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.ModelRecord;
import io.trellis.metadata.ModelVersionContext;
import io.trellis.metadata.Registry;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.ArtifactCheck;
import io.trellis.workflows.promotion.BatchScoreResult;
import io.trellis.workflows.promotion.PromotionActivities;
import io.trellis.workflows.promotion.PromotionContext;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.RollbackRequest;
import io.trellis.workflows.promotion.RollbackResult;
import io.trellis.workflows.promotion.ScoringTarget;
import io.trellis.workflows.promotion.ShadowResult;
import io.trellis.workflows.promotion.StageReport;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.GateResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The promotion activities: the registry's promotion operations and the artifact checksum check. */
public final class PromotionActivitiesImpl implements PromotionActivities {
    private final Registry registry;
    private final ArtifactStore artifacts;

    public PromotionActivitiesImpl(Registry registry, ArtifactStore artifacts) {
        this.registry = registry;
        this.artifacts = artifacts;
    }

    @Override
    public PromotionContext begin(String promotionKey, PromotionRequest r) {
        return call(() -> {
            registry.openPromotion(promotionKey, r.modelName(), r.version(), r.targetEnvironment(), r.requestedBy(), r.reason());
            try {
                return context(promotionKey, r);
            } catch (RuntimeException e) {
                // opened but not promotable after all: close it so it does not hold the environment's slot
                registry.finishPromotion(promotionKey, io.trellis.metadata.PromotionStatus.FAILED, e.getMessage(), r.requestedBy());
                throw e;
            }
        });
    }

    private PromotionContext context(String promotionKey, PromotionRequest r) {
        ModelVersionContext v = registry.versionContext(r.modelName(), r.version());
        ModelRecord model = registry.findModel(r.modelName()).orElseThrow();
        ModelSpec spec = ModelSpecLoader.parse(model.specYaml(), "registry:" + model.name());
        if (v.features() == null || v.artifactUri() == null) {
            throw new TrellisException(ErrorCode.INVALID_STATE, r.modelName() + " v" + r.version()
                    + " has no recorded feature table or artifact, so its gates cannot be checked; retrain the model");
        }
        List<String> envs = v.environments();
        int target = envs.indexOf(r.targetEnvironment());
        List<String> stages = new ArrayList<>();
        for (String env : envs.subList(1, target + 1)) {
            boolean alreadyLive = registry.live(r.modelName(), env).map(d -> d.version() == r.version()).orElse(false);
            if (!alreadyLive) {
                stages.add(env);
            }
        }
        return new PromotionContext(promotionKey, r.modelName(), r.version(), spec, v.triggeredBy(),
                Boolean.TRUE.equals(v.dataValidationPassed()),
                new ArtifactRef(v.artifactUri(), v.artifactSha256(), v.artifactBytes() == null ? 0 : v.artifactBytes()),
                new DatasetRef(v.features().tablePath(), v.features().deltaVersion(), v.features().rowCount()),
                List.copyOf(stages));
    }

    @Override
    public ChampionRef liveVersion(String modelName, String environment) {
        return call(() -> registry.liveChampion(modelName, environment).map(RegistryActivitiesImpl::championRef).orElse(null));
    }

    @Override
    public ArtifactCheck verifyArtifact(ArtifactRef artifact) {
        return call(() -> {
            try {
                artifacts.fetch(artifact);
                return new ArtifactCheck(artifact.sha256(), artifact.sha256(), true, "artifact checksum matches " + abbreviate(artifact.sha256()));
            } catch (TrellisException e) {
                if (e.code() != ErrorCode.ARTIFACT_CHECKSUM_MISMATCH) {
                    throw e;
                }
                return new ArtifactCheck(artifact.sha256(), null, false, e.getMessage());
            }
        });
    }

    @Override
    public void recordStage(String promotionKey, StageReport report) {
        call(() -> {
            var promotion = registry.recordStage(promotionKey, stageMap(report), report.passed() ? AuditOutcome.SUCCESS : AuditOutcome.REJECTED);
            ShadowResult s = report.shadow();
            if (s != null) {
                // The shadow run's predictions are a dataset version like batch scoring's: linked to both model versions
                // that wrote them and to this promotion, so lineage queries find them.
                var predictions = registry.recordDatasetVersion(s.predictions().tablePath(), s.predictions().version(),
                        s.predictions().rowCount(), DatasetKind.PREDICTIONS, null);
                registry.recordShadowLineage(promotionKey, promotion.modelName(), s.candidateVersion(), s.productionVersion(),
                        predictions.id(), s.sourceTable(), s.sourceVersion());
            }
            return promotion;
        });
    }

    @Override
    public void awaitApproval(String promotionKey) {
        call(() -> registry.awaitApproval(promotionKey));
    }

    @Override
    public void recordDecision(String promotionKey, ApprovalDecision d) {
        call(() -> registry.decide(promotionKey, d.approver(), d.verdict() == Verdict.APPROVE ? Decision.APPROVED : Decision.REJECTED,
                d.reason()));
    }

    @Override
    public void deploy(String promotionKey, String environment, String actor) {
        call(() -> registry.deploy(promotionKey, environment, actor));
    }

    @Override
    public void finish(String promotionKey, PromotionStatus status, String message, String actor) {
        call(() -> registry.finishPromotion(promotionKey, io.trellis.metadata.PromotionStatus.valueOf(status.name()), message, actor));
    }

    @Override
    public RollbackResult rollback(RollbackRequest r) {
        return call(() -> {
            DeploymentRecord restored = registry.rollback(r.modelName(), r.environment(), r.toVersion(), r.requestedBy(), r.reason());
            // The pointer the rollback closed is the one opened just before the restored one (also on a retry).
            List<DeploymentRecord> history = registry.liveHistory(r.modelName(), r.environment());
            Integer replaced = history.size() < 2 ? null : history.get(history.size() - 2).version();
            return new RollbackResult(r.modelName(), r.environment(), restored.version(), replaced);
        });
    }

    @Override
    public ScoringTarget scoringTarget(String modelName, String environment) {
        return call(() -> {
            ModelRecord model = registry.findModel(modelName).orElseThrow(() -> new TrellisException(ErrorCode.UNKNOWN_MODEL,
                    "no model named '" + modelName + "' is registered; apply its spec first (trellis models apply)"));
            ChampionRef live = liveVersion(modelName, environment);
            if (live == null) {
                throw new TrellisException(ErrorCode.INVALID_STATE, "nothing is live in " + environment + " for " + modelName
                        + ", so there is no model to score with; promote a version there first (trellis promote)");
            }
            return new ScoringTarget(ModelSpecLoader.parse(model.specYaml(), "registry:" + modelName), live);
        });
    }

    @Override
    public void recordScoring(String runKey, String modelName, String environment, int version, BatchScoreResult result,
                              String actor) {
        call(() -> {
            var predictions = registry.recordDatasetVersion(result.predictions().tablePath(), result.predictions().version(), result.rows(),
                    DatasetKind.PREDICTIONS, null);
            registry.recordScoringLineage(modelName, version, predictions.id(), result.sourceTable(), result.sourceVersion());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("environment", environment);
            details.put("predictionsTable", result.predictions().tablePath());
            details.put("predictionsVersion", result.predictions().version());
            details.put("rows", result.rows());
            details.put("sourceTable", result.sourceTable());
            details.put("sourceVersion", result.sourceVersion());
            details.put("windowFrom", result.windowFrom());
            details.put("windowTo", result.windowTo());
            boolean recorded = registry.auditTrail(new io.trellis.metadata.AuditQuery(null, runKey, 10)).stream()
                    .anyMatch(a -> a.action().equals("scoring.completed"));
            if (!recorded) {
                registry.recordAudit(actor, "scoring.completed", AuditOutcome.SUCCESS, modelName, version, runKey,
                        modelName + " v" + version + " scored " + result.rows() + " rows into " + environment + " predictions (Delta version "
                                + result.predictions().version() + ")", details);
            }
            return null;
        });
    }

    static Map<String, Object> stageMap(StageReport report) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("environment", report.environment());
        m.put("passed", report.passed());
        m.put("championVersion", report.championVersion());
        List<Map<String, Object>> gates = new ArrayList<>();
        for (GateResult g : report.gates()) {
            Map<String, Object> gm = new LinkedHashMap<>();
            gm.put("gate", g.gate());
            gm.put("metric", g.metric());
            gm.put("observed", g.observed());
            gm.put("threshold", g.threshold());
            gm.put("passed", g.passed());
            gm.put("detail", g.detail());
            gates.add(gm);
        }
        m.put("gates", gates);
        ShadowResult s = report.shadow();
        if (s != null) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("predictionsTable", s.predictions().tablePath());
            sm.put("predictionsVersion", s.predictions().version());
            sm.put("rows", s.rows());
            sm.put("candidateVersion", s.candidateVersion());
            sm.put("productionVersion", s.productionVersion());
            sm.put("agreementRate", s.agreementRate());
            sm.put("scorePsi", s.scorePsi());
            sm.put("meanAbsScoreDiff", s.meanAbsScoreDiff());
            sm.put("candidateMillis", s.candidateMillis());
            sm.put("productionMillis", s.productionMillis());
            m.put("shadow", sm);
        }
        return m;
    }

    private static String abbreviate(String sha) {
        return sha == null ? "—" : sha.substring(0, Math.min(12, sha.length()));
    }

    private static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw ActivityErrors.translate(e);
        }
    }
}
