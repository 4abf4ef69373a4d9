package io.trellis.activities.registry;

import io.trellis.activities.ActivityErrors;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.ChampionRecord;
import io.trellis.metadata.DatasetKind;
import io.trellis.metadata.DatasetVersionRecord;
import io.trellis.metadata.ModelRecord;
import io.trellis.metadata.ModelVersionRegistration;
import io.trellis.metadata.ModelVersionStatus;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RunStatus;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.FeatureResult;
import io.trellis.workflows.activities.ModelDefinition;
import io.trellis.workflows.activities.RegisterRequest;
import io.trellis.workflows.activities.RegisteredVersion;
import io.trellis.workflows.activities.RegistryActivities;
import io.trellis.workflows.activities.RuleResult;
import io.trellis.workflows.activities.RunOutcome;
import io.trellis.workflows.activities.RunStart;
import io.trellis.workflows.activities.SnapshotResult;
import io.trellis.workflows.retrain.GateResult;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The registry activities: translate workflow records to the metadata store's API, and its errors to Temporal's. */
public final class RegistryActivitiesImpl implements RegistryActivities {
    static final String START_STEP = "start run";
    private final Registry registry;
    private final String codeVersion;

    public RegistryActivitiesImpl(Registry registry, String codeVersion) {
        this.registry = registry;
        this.codeVersion = codeVersion;
    }

    @Override
    public ModelDefinition startRun(RunStart start) {
        return call(() -> {
            String sha = registry.findModel(start.modelName()).map(ModelRecord::specSha256).orElse(null);
            // Unknown model: startRun itself audits the failure and throws UNKNOWN_MODEL.
            registry.startRun(start.runKey(), start.workflowRunId(), start.modelName(), start.triggeredBy(),
                    start.reason(), sha, codeVersion, start.overrides() == null ? null : start.overrides().describe());
            ModelRecord model = registry.findModel(start.modelName()).orElseThrow();
            ModelSpec spec;
            try {
                spec = ModelSpecLoader.parse(model.specYaml(), "registry:" + model.name());
                if (start.overrides() != null) {
                    // Checked by the API and CLI before the start; checked again here against the spec the run pinned.
                    start.overrides().requireFits(spec);
                }
            } catch (TrellisException e) {
                registry.finishRun(start.runKey(), RunStatus.FAILED, START_STEP, e.getMessage(), start.triggeredBy());
                throw e;
            }
            ChampionRef champion = registry.findChampion(model.name()).map(RegistryActivitiesImpl::championRef).orElse(null);
            // The step the run moves to, for readers without the workflow (trellis status on the embedded stack).
            registry.updateRunStep(start.runKey(), "snapshot + validate");
            return new ModelDefinition(model.name(), spec, model.specSha256(), champion);
        });
    }

    @Override
    public void recordSnapshot(String runKey, SnapshotResult snapshot) {
        call(() -> {
            DatasetVersionRecord dv = registry.recordDatasetVersion(snapshot.source().tablePath(), snapshot.source().version(),
                    snapshot.source().rowCount(), DatasetKind.RAW, null);
            registry.recordRunInput(runKey, dv.id(), "source");
            List<Map<String, Object>> rules = new ArrayList<>();
            for (RuleResult r : snapshot.rules()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("rule", r.rule());
                m.put("column", r.column());
                m.put("observed", r.observed());
                m.put("allowed", r.allowed());
                m.put("passed", r.passed());
                rules.add(m);
            }
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("table", snapshot.source().tablePath());
            report.put("deltaVersion", snapshot.source().version());
            report.put("rowCount", snapshot.source().rowCount());
            report.put("passed", snapshot.passed());
            report.put("rules", rules);
            registry.recordValidation(runKey, dv.id(), snapshot.passed(), report);
            registry.updateRunStep(runKey, snapshot.passed() ? "build features" : "snapshot + validate");
            return null;
        });
    }

    @Override
    public void recordFeatures(String runKey, FeatureResult features) {
        call(() -> {
            DatasetVersionRecord dv = registry.recordDatasetVersion(features.table().tablePath(), features.table().version(),
                    features.table().rowCount(), DatasetKind.FEATURES, null);
            registry.recordRunInput(runKey, dv.id(), "features");
            registry.updateRunStep(runKey, "train + evaluate");
            return null;
        });
    }

    @Override
    public RegisteredVersion registerModelVersion(RegisterRequest r) {
        return call(() -> {
            List<Map<String, Object>> gates = new ArrayList<>();
            for (GateResult g : r.gates()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("gate", g.gate());
                m.put("metric", g.metric());
                m.put("observed", g.observed());
                m.put("threshold", g.threshold());
                m.put("passed", g.passed());
                m.put("detail", g.detail());
                gates.add(m);
            }
            Map<String, Object> params = new LinkedHashMap<>(r.training().params());
            io.trellis.metadata.RegisteredVersion v = registry.registerModelVersion(new ModelVersionRegistration(
                    r.runKey(), r.training().algorithm(), r.training().artifact().uri(), r.training().artifact().sha256(),
                    r.training().artifact().bytes(), params, r.evaluation().candidate(), r.evaluation().championVersion(),
                    r.evaluation().champion(), gates,
                    r.gatesPassed() ? ModelVersionStatus.REGISTERED : ModelVersionStatus.REJECTED,
                    codeVersion, r.actor()));
            return new RegisteredVersion(v.version(), v.created());
        });
    }

    @Override
    public void markCandidate(String runKey, String modelName, int version, String environment, String actor) {
        call(() -> registry.markCandidate(runKey, modelName, version, environment, actor));
    }

    @Override
    public void finishRun(RunOutcome o) {
        call(() -> {
            if (registry.run(o.runKey()).isEmpty()) {
                // the run never opened (e.g. it failed before startRun committed): keep the failure in the audit trail
                registry.recordAudit(o.actor(), "retrain.failed", AuditOutcome.FAILURE, o.modelName(), null, o.runKey(),
                        o.message(), null);
                return null;
            }
            return registry.finishRun(o.runKey(), RunStatus.valueOf(o.status().name()), o.failedStep(), o.message(), o.actor());
        });
    }

    /** A registry champion as the workflows see it: version, environment and its artifact. */
    public static ChampionRef championRef(ChampionRecord c) {
        return new ChampionRef(c.version(), c.environment(),
                new ArtifactRef(c.artifactUri(), c.artifactSha256(), c.artifactBytes() == null ? 0 : c.artifactBytes()));
    }

    private static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw ActivityErrors.translate(e);
        }
    }
}
