package io.trellis.activities.monitor;

import io.trellis.activities.ActivityErrors;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.activities.registry.RegistryActivitiesImpl;
import io.trellis.metadata.LineageInput;
import io.trellis.metadata.ModelRecord;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.Registry;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.ModelSpec;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ChampionRef;
import io.trellis.workflows.activities.DatasetRef;
import io.trellis.workflows.monitor.DriftResult;
import io.trellis.workflows.monitor.FeatureDriftResult;
import io.trellis.workflows.monitor.MonitorActivities;
import io.trellis.workflows.monitor.MonitorRecord;
import io.trellis.workflows.monitor.MonitorTarget;
import io.trellis.workflows.monitor.RetrainGuardState;
import io.trellis.workflows.monitor.StoredScoresRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** Monitoring's registry and report steps: PostgreSQL through {@link Registry} and {@link MonitoringStore}, reports to the artifact store. */
public final class MonitorActivitiesImpl implements MonitorActivities {
    /** The lineage relation of the raw snapshot a run trained on (see RegistryActivitiesImpl). */
    static final String SOURCE_RELATION = "source";

    private final Registry registry;
    private final MonitoringStore monitoring;
    private final ArtifactStore artifacts;
    private final MonitoringReport report = new MonitoringReport();

    public MonitorActivitiesImpl(Registry registry, MonitoringStore monitoring, ArtifactStore artifacts) {
        this.registry = registry;
        this.monitoring = monitoring;
        this.artifacts = artifacts;
    }

    @Override
    public MonitorTarget target(String modelName, String environment) {
        return call(() -> {
            ModelRecord model = registry.findModel(modelName).orElseThrow(() -> new TrellisException(ErrorCode.UNKNOWN_MODEL,
                    "no model named '" + modelName + "' is registered; apply its spec first (trellis models apply)"));
            ModelSpec spec = ModelSpecLoader.parse(model.specYaml(), "registry:" + modelName);
            String env = environment == null ? spec.monitoring().environment() : environment;
            if (!registry.environments(modelName).contains(env)) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, "'" + env + "' is not an environment of " + modelName
                        + "; one of " + registry.environments(modelName));
            }
            ChampionRef live = registry.liveChampion(modelName, env).map(RegistryActivitiesImpl::championRef).orElse(null);
            if (live == null) {
                return new MonitorTarget(spec, env, null, null, null, null, null);
            }
            Double auc = registry.version(modelName, live.version()).map(v -> v.metrics().get("auc")).orElse(null);
            DatasetRef snapshot = registry.lineage(modelName, live.version()).inputs().stream()
                    .filter(i -> i.relation().equals(SOURCE_RELATION)).map(LineageInput::dataset)
                    .map(d -> new DatasetRef(d.tablePath(), d.deltaVersion(), d.rowCount())).findFirst().orElse(null);
            String profile = monitoring.reference(modelName, live.version()).map(MonitoringStore.StoredReference::profileJson).orElse(null);
            StoredScoresRef scoring = monitoring.latestScoringRun(modelName, live.version(), env)
                    .map(r -> new StoredScoresRef(r.runKey(), r.predictionsTable(), r.predictionsVersion(), r.sourceTable(),
                            r.sourceVersion(), r.recordedAt().toString()))
                    .orElse(null);
            return new MonitorTarget(spec, env, live, auc, snapshot, profile, scoring);
        });
    }

    @Override
    public String storeReference(String modelName, int version, DatasetRef snapshot, String profile) {
        return call(() -> monitoring.storeReference(modelName, version, snapshot.tablePath(), snapshot.version(), profile,
                Registry.SYSTEM_ACTOR).profileJson());
    }

    @Override
    public RetrainGuardState retrainGuard(String modelName, long cooldownSeconds) {
        return call(() -> {
            MonitoringStore.RetrainGuard guard = monitoring.retrainGuard(modelName, cooldownSeconds);
            return new RetrainGuardState(guard.runningRunKey(), guard.recentMonitorRetrain());
        });
    }

    @Override
    public String renderReport(MonitorRecord record) {
        return call(() -> {
            String html = report.render(record, Instant.now());
            Path dir = null;
            try {
                dir = Files.createTempDirectory("trellis-report");
                Files.writeString(dir.resolve(MonitoringReport.FILE_NAME), html, StandardCharsets.UTF_8);
                String uri = artifacts.put(reportKey(record), dir).uri();
                return (uri.endsWith("/") ? uri : uri + "/") + MonitoringReport.FILE_NAME;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteQuietly(dir);
            }
        });
    }

    /** {@code <model>/monitoring/<run key with unsafe characters replaced>}. */
    static String reportKey(MonitorRecord record) {
        return record.modelName() + "/monitoring/" + record.runKey().replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Override
    public void recordRun(MonitorRecord r) {
        call(() -> {
            DriftResult d = r.drift();
            List<MonitoringStore.Statistic> stats = new ArrayList<>();
            List<String> findings = new ArrayList<>();
            if (d != null) {
                for (FeatureDriftResult f : d.features()) {
                    add(stats, f.feature(), "psi", f.psi(), f.severity());
                    add(stats, f.feature(), "ks", f.ks(), null);
                    add(stats, f.feature(), "null_rate", d.currentRows() == 0 ? null : f.currentNullRate(), null);
                    if (f.finding() != null) {
                        findings.add(f.feature() + ": " + f.finding());
                    }
                }
                add(stats, MonitoringStore.PREDICTION, "psi", d.predictionPsi(), d.predictionSeverity());
                add(stats, MonitoringStore.MODEL, "auc", d.currentAuc(), null);
                if (d.currentAuc() != null && r.trainingAuc() != null) {
                    add(stats, MonitoringStore.MODEL, "auc_drop", r.trainingAuc() - d.currentAuc(), null);
                }
                findings.addAll(0, d.findings());
            }
            monitoring.recordRun(new MonitoringStore.MonitoringRun(r.runKey(), r.modelName(), r.version(), r.environment(),
                    r.decision().name(), r.reason(), r.retrainWorkflowId(), d == null ? null : d.windowFrom(),
                    d == null ? null : d.windowTo(), d == null ? null : d.referenceRows(), d == null ? null : d.currentRows(),
                    r.reportUri(), findings, r.requestedBy(), null), stats);
            return null;
        });
    }

    private static void add(List<MonitoringStore.Statistic> stats, String feature, String statistic, Double value, String severity) {
        if (value != null) {
            stats.add(new MonitoringStore.Statistic(feature, statistic, value, severity));
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }

    private static <T> T call(Supplier<T> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            throw ActivityErrors.translate(e);
        }
    }
}
