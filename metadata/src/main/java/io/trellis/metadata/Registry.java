package io.trellis.metadata;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.persistence.TypedQuery;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The model registry: models and their specs, training runs, dataset versions and lineage, model versions,
 * environment pointers and the audit log.
 *
 * <p>Every operation runs in its own transaction, and every state change writes its audit row in that same
 * transaction, so the log never claims a change that did not happen nor misses one that did. Every write is
 * safe to repeat with the same arguments (Temporal retries activities): a repeat returns what the first call
 * recorded and writes no second audit row. {@link #recordAudit} is the one exception: it always appends.
 *
 * <p>User errors are {@link TrellisException}s whose message says what is wrong and how to fix it.
 */
public final class Registry {
    /** Actor recorded for what Trellis does on its own (validation verdicts). */
    public static final String SYSTEM_ACTOR = "trellis";
    /** Promotion path used when a spec lists no environments. */
    public static final List<String> DEFAULT_ENVIRONMENTS = List.of("dev", "staging", "production");

    private final Transactions tx;

    Registry(Transactions tx) {
        this.tx = tx;
    }

    // ---------------------------------------------------------------- models

    /**
     * Creates the model or updates its current spec, keeps the history of distinct specs, and creates the
     * environments in the given order (null or empty: {@link #DEFAULT_ENVIRONMENTS}). Environments dropped
     * from the list are kept, since deployment history refers to them. Audits {@code model.spec_applied}
     * only when something changed.
     */
    public ModelRecord applyModelSpec(String name, String specYaml, String specSha256, List<String> environments, String actor) {
        requireText(name, "model name");
        requireText(specYaml, "spec YAML");
        requireText(specSha256, "spec sha256");
        requireText(actor, "actor");
        List<String> envs = environments == null || environments.isEmpty() ? DEFAULT_ENVIRONMENTS : List.copyOf(environments);
        Set<String> seen = new HashSet<>();
        for (String env : envs) {
            requireText(env, "environment name");
            if (!seen.add(env)) {
                throw new TrellisException(ErrorCode.INVALID_MODEL_SPEC, "The spec of model '" + name
                        + "' lists environment '" + env + "' twice; list each environment once, lowest first.");
            }
        }
        return tx.inTransaction(em -> {
            Instant now = now();
            ModelRow model = modelByName(em, name, LockModeType.PESSIMISTIC_WRITE).orElse(null);
            boolean created = model == null;
            if (created) {
                model = new ModelRow(name, now);
                em.persist(model);
            }
            String previousSha = model.specSha256;
            boolean specChanged = !specSha256.equals(previousSha);
            if (specChanged) {
                model.specYaml = specYaml;
                model.specSha256 = specSha256;
                model.updatedAt = now;
            }
            Long modelId = model.id;
            boolean inHistory = !em.createQuery(
                            "select s.id from ModelSpecRow s where s.modelId = :m and s.specSha256 = :sha", Long.class)
                    .setParameter("m", modelId).setParameter("sha", specSha256)
                    .getResultList().isEmpty();
            if (!inHistory) {
                em.persist(new ModelSpecRow(modelId, specSha256, specYaml, actor, now));
            }
            Map<String, EnvironmentRow> existing = environmentRows(em, modelId).stream()
                    .collect(Collectors.toMap(e -> e.name, e -> e));
            boolean environmentsChanged = false;
            for (int ordinal = 0; ordinal < envs.size(); ordinal++) {
                EnvironmentRow env = existing.get(envs.get(ordinal));
                if (env == null) {
                    em.persist(new EnvironmentRow(modelId, envs.get(ordinal), ordinal));
                    environmentsChanged = true;
                } else if (env.ordinal != ordinal) {
                    env.ordinal = ordinal;
                    environmentsChanged = true;
                }
            }
            if (created || specChanged || environmentsChanged) {
                String message = created
                        ? "Created model " + name + " with spec " + shortSha(specSha256) + " and environments " + String.join(", ", envs)
                        : "Applied spec " + shortSha(specSha256) + " to model " + name
                                + (specChanged ? " (was " + shortSha(previousSha) + ")" : " (unchanged)")
                                + (environmentsChanged ? "; environments now " + String.join(", ", envs) : "");
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("specSha256", specSha256);
                details.put("previousSpecSha256", previousSha);
                details.put("environments", envs);
                audit(em, actor, "model.spec_applied", AuditOutcome.SUCCESS, name, null, null, message, details);
            }
            return model.toRecord();
        });
    }

    public Optional<ModelRecord> findModel(String name) {
        return tx.inTransaction(em -> modelByName(em, name, LockModeType.NONE).map(ModelRow::toRecord));
    }

    /** The model's environment names, lowest (first promoted to) first. */
    public List<String> environments(String modelName) {
        return tx.inTransaction(em -> environmentRows(em, requireModel(em, modelName).id).stream()
                .map(e -> e.name).toList());
    }

    // ---------------------------------------------------------------- runs

    /**
     * Records a new RUNNING run and audits {@code retrain.started}; if {@code runKey} is already recorded,
     * returns that run unchanged. An unknown model fails with {@link ErrorCode#UNKNOWN_MODEL} after
     * committing a FAILURE audit row.
     */
    public RunRecord startRun(String runKey, String workflowRunId, String modelName, String triggeredBy, String reason,
                              String specSha256, String codeVersion) {
        requireText(runKey, "run key");
        requireText(modelName, "model name");
        requireText(triggeredBy, "triggeredBy");
        return tx.inTransaction(em -> {
            Optional<TrainingRunRow> existing = runByKey(em, runKey, LockModeType.NONE);
            if (existing.isPresent()) {
                return existing.get().toRecord(modelName(em, existing.get().modelId));
            }
            ModelRow model = modelByName(em, modelName, LockModeType.NONE).orElseThrow(() ->
                    auditedFailure(em, triggeredBy, "retrain.started", modelName, null, runKey, unknownModel(em, modelName)));
            TrainingRunRow run = new TrainingRunRow(runKey, model.id, workflowRunId, triggeredBy, reason, specSha256, codeVersion, now());
            em.persist(run);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("workflowRunId", workflowRunId);
            details.put("specSha256", specSha256);
            details.put("codeVersion", codeVersion);
            audit(em, triggeredBy, "retrain.started", AuditOutcome.SUCCESS, model.name, null, runKey,
                    "Run " + runKey + " of model " + model.name + " started" + (reason == null ? "" : ": " + reason), details);
            return run.toRecord(model.name);
        });
    }

    /** Records the step a RUNNING run is at; ignored once the run has finished (a late retry). */
    public void updateRunStep(String runKey, String step) {
        requireText(step, "step");
        tx.inTransaction(em -> {
            TrainingRunRow run = requireRun(em, runKey, LockModeType.NONE);
            if (run.status == RunStatus.RUNNING) {
                run.currentStep = step;
            }
            return null;
        });
    }

    /**
     * Finishes a RUNNING run with a final status and audits {@code retrain.succeeded},
     * {@code retrain.validation_failed}, {@code retrain.gate_failed} or {@code retrain.failed}. A run that has
     * already finished is returned unchanged (the first finish wins). Outcomes: SUCCEEDED is SUCCESS,
     * VALIDATION_FAILED and GATE_FAILED are REJECTED (a rule turned the run down), FAILED is FAILURE.
     *
     * @param failureStep the step that failed, or null
     * @param message     what went wrong (stored as the failure message), or a note on success; may be null
     */
    public RunRecord finishRun(String runKey, RunStatus status, String failureStep, String message, String actor) {
        Objects.requireNonNull(status, "status");
        requireText(actor, "actor");
        if (!status.isFinal()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Cannot finish run " + runKey
                    + " with status RUNNING; pass SUCCEEDED, VALIDATION_FAILED, GATE_FAILED or FAILED.");
        }
        return tx.inTransaction(em -> {
            TrainingRunRow run = requireRun(em, runKey, LockModeType.PESSIMISTIC_WRITE);
            String modelName = modelName(em, run.modelId);
            if (run.status != RunStatus.RUNNING) {
                return run.toRecord(modelName);
            }
            run.status = status;
            run.finishedAt = now();
            if (status != RunStatus.SUCCEEDED) {
                run.failureStep = failureStep;
                run.failureMessage = message;
            }
            Integer version = versionOfRun(em, run.id).map(v -> v.version).orElse(null);
            String text = switch (status) {
                case SUCCEEDED -> "Run " + runKey + " succeeded" + (version == null ? "" : " and produced " + modelName + " v" + version);
                case VALIDATION_FAILED -> "Run " + runKey + " stopped: the input data failed validation";
                case GATE_FAILED -> "Run " + runKey + " stopped: " + (version == null ? "the new model" : modelName + " v" + version)
                        + " did not pass its promotion gates";
                default -> "Run " + runKey + " failed";
            };
            if (failureStep != null && status != RunStatus.SUCCEEDED) {
                text += " at step " + failureStep;
            }
            if (message != null) {
                text += ": " + message;
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("status", status.name());
            details.put("failureStep", failureStep);
            audit(em, actor, "retrain." + status.name().toLowerCase(Locale.ROOT), outcomeOf(status), modelName, version, runKey, text, details);
            return run.toRecord(modelName);
        });
    }

    public Optional<RunRecord> run(String runKey) {
        return tx.inTransaction(em -> runByKey(em, runKey, LockModeType.NONE).map(r -> r.toRecord(modelName(em, r.modelId))));
    }

    // ---------------------------------------------------------------- datasets and lineage

    /** Records a Delta table version, or returns the one already recorded for {@code (tablePath, deltaVersion)}. */
    public DatasetVersionRecord recordDatasetVersion(String tablePath, long deltaVersion, long rowCount, DatasetKind kind, String ingestKey) {
        requireText(tablePath, "table path");
        Objects.requireNonNull(kind, "kind");
        return tx.inTransaction(em -> {
            Optional<DatasetVersionRow> existing = datasetByPath(em, tablePath, deltaVersion);
            if (existing.isPresent()) {
                return existing.get().toRecord();
            }
            if (ingestKey != null) {
                datasetByIngestKey(em, ingestKey).ifPresent(other -> {
                    throw new TrellisException(ErrorCode.INVALID_REQUEST, "Ingest key '" + ingestKey + "' already names "
                            + other.tablePath + " at Delta version " + other.deltaVersion + ", not " + tablePath + " at version "
                            + deltaVersion + "; use a new ingest key for each ingestion.");
                });
            }
            DatasetVersionRow row = new DatasetVersionRow(tablePath, deltaVersion, rowCount, kind, ingestKey, now());
            em.persist(row);
            return row.toRecord();
        });
    }

    /**
     * Records a raw-data ingestion and audits {@code dataset.ingested}. Idempotent on {@code ingestKey}: a
     * repeat returns the version recorded first, whatever the other arguments say.
     */
    public DatasetVersionRecord recordIngestion(String tablePath, long deltaVersion, long rowCount, String ingestKey, String actor) {
        requireText(tablePath, "table path");
        requireText(ingestKey, "ingest key");
        requireText(actor, "actor");
        return tx.inTransaction(em -> {
            Optional<DatasetVersionRow> byKey = datasetByIngestKey(em, ingestKey);
            if (byKey.isPresent()) {
                return byKey.get().toRecord();
            }
            DatasetVersionRow row = datasetByPath(em, tablePath, deltaVersion).orElse(null);
            if (row != null && row.ingestKey != null) {
                throw new TrellisException(ErrorCode.INVALID_REQUEST, tablePath + " at Delta version " + deltaVersion
                        + " was already ingested under key '" + row.ingestKey + "', not '" + ingestKey
                        + "'; retry with the original key.");
            }
            if (row == null) {
                row = new DatasetVersionRow(tablePath, deltaVersion, rowCount, DatasetKind.RAW, ingestKey, now());
                em.persist(row);
            } else {
                row.ingestKey = ingestKey;
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("tablePath", tablePath);
            details.put("deltaVersion", deltaVersion);
            details.put("rowCount", rowCount);
            details.put("ingestKey", ingestKey);
            audit(em, actor, "dataset.ingested", AuditOutcome.SUCCESS, null, null, null,
                    "Ingested " + rowCount + " rows into " + tablePath + " as Delta version " + deltaVersion
                            + " (ingest key " + ingestKey + ")", details);
            return row.toRecord();
        });
    }

    /** Records that a dataset version fed a run ({@code relation}: source, features...); a repeat is a no-op. */
    public void recordRunInput(String runKey, long datasetVersionId, String relation) {
        requireText(relation, "relation");
        tx.inTransaction(em -> {
            TrainingRunRow run = requireRun(em, runKey, LockModeType.NONE);
            DatasetVersionRow dataset = requireDataset(em, datasetVersionId);
            ensureEdge(em, LineageEdgeRow.DATASET_VERSION, dataset.id, LineageEdgeRow.TRAINING_RUN, run.id, relation);
            return null;
        });
    }

    /**
     * Records the data-validation verdict of a run and audits {@code data.validated} (SUCCESS or FAILURE).
     * A run has one verdict: a repeat returns the first.
     */
    public ValidationRecord recordValidation(String runKey, long datasetVersionId, boolean passed, Map<String, Object> report) {
        Map<String, Object> body = report == null ? Map.of() : report;
        return tx.inTransaction(em -> {
            TrainingRunRow run = requireRun(em, runKey, LockModeType.NONE);
            Optional<ValidationReportRow> existing = em.createQuery(
                            "from ValidationReportRow v where v.trainingRunId = :r", ValidationReportRow.class)
                    .setParameter("r", run.id).getResultStream().findFirst();
            if (existing.isPresent()) {
                return existing.get().toRecord(runKey);
            }
            DatasetVersionRow dataset = requireDataset(em, datasetVersionId);
            ValidationReportRow row = new ValidationReportRow(run.id, dataset.id, passed, body, now());
            em.persist(row);
            String summary = body.get("summary") instanceof String s ? s : body.get("message") instanceof String m ? m : null;
            String text = "Data validation " + (passed ? "passed" : "failed") + " for run " + runKey + " on " + dataset.tablePath
                    + " at Delta version " + dataset.deltaVersion + " (" + dataset.rowCount + " rows)"
                    + (summary == null ? "" : ": " + summary);
            audit(em, SYSTEM_ACTOR, "data.validated", passed ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE,
                    modelName(em, run.modelId), null, runKey, text, body);
            return row.toRecord(runKey);
        });
    }

    public Optional<ValidationRecord> validation(String runKey) {
        return tx.inTransaction(em -> {
            TrainingRunRow run = requireRun(em, runKey, LockModeType.NONE);
            return em.createQuery("from ValidationReportRow v where v.trainingRunId = :r", ValidationReportRow.class)
                    .setParameter("r", run.id).getResultStream().findFirst().map(v -> v.toRecord(runKey));
        });
    }

    // ---------------------------------------------------------------- model versions

    /**
     * Registers the model version a run produced, numbered one above the model's highest version, with a
     * {@code produced} lineage edge from the run, and audits {@code model.registered} (SUCCESS, or REJECTED
     * for a version that failed its gates). Exactly once per run: a repeat returns the existing version with
     * {@code created == false}. Concurrent registrations for one model are serialized on the model's row.
     */
    public RegisteredVersion registerModelVersion(ModelVersionRegistration registration) {
        Objects.requireNonNull(registration, "registration");
        return tx.inTransaction(em -> {
            TrainingRunRow run = requireRun(em, registration.runKey(), LockModeType.NONE);
            ModelRow model = em.find(ModelRow.class, run.modelId, LockModeType.PESSIMISTIC_WRITE);
            Optional<ModelVersionRow> existing = versionOfRun(em, run.id);
            if (existing.isPresent()) {
                return new RegisteredVersion(existing.get().version, false);
            }
            Integer highest = em.createQuery("select max(v.version) from ModelVersionRow v where v.modelId = :m", Integer.class)
                    .setParameter("m", model.id).getSingleResult();
            int next = highest == null ? 1 : highest + 1;
            ModelVersionRow row = new ModelVersionRow(model.id, next, run.id, registration, now());
            em.persist(row);
            ensureEdge(em, LineageEdgeRow.TRAINING_RUN, run.id, LineageEdgeRow.MODEL_VERSION, row.id, LineageEdgeRow.PRODUCED);
            boolean accepted = registration.status() == ModelVersionStatus.REGISTERED;
            String text = (accepted ? "Registered " : "Recorded rejected ") + model.name + " v" + next + " ("
                    + registration.algorithm() + ") from run " + run.runKey
                    + (accepted ? "" : ": it did not pass its promotion gates")
                    + (registration.championVersion() == null ? "" : "; compared with champion v" + registration.championVersion());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("algorithm", registration.algorithm());
            details.put("artifactUri", registration.artifactUri());
            details.put("artifactSha256", registration.artifactSha256());
            details.put("metrics", registration.metrics());
            details.put("championVersion", registration.championVersion());
            details.put("gateResults", registration.gateResults());
            audit(em, registration.actor(), "model.registered", accepted ? AuditOutcome.SUCCESS : AuditOutcome.REJECTED,
                    model.name, next, run.runKey, text, details);
            return new RegisteredVersion(next, true);
        });
    }

    /** All versions of a model, oldest first. */
    public List<ModelVersionRecord> versions(String modelName) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            return em.createQuery("from ModelVersionRow v where v.modelId = :m order by v.version", ModelVersionRow.class)
                    .setParameter("m", model.id).getResultList().stream()
                    .map(v -> v.toRecord(model.name, runKey(em, v.trainingRunId))).toList();
        });
    }

    public Optional<ModelVersionRecord> version(String modelName, int version) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            return versionRow(em, model.id, version).map(v -> v.toRecord(model.name, runKey(em, v.trainingRunId)));
        });
    }

    // ---------------------------------------------------------------- environments and deployments

    /**
     * Makes {@code version} the candidate of {@code environmentName}: closes the open candidate pointer and
     * opens one for this version; a no-op when it already is the candidate. Audits
     * {@code environment.candidate_set}; an unknown model, environment or version, or a REJECTED version, fails
     * with a FAILURE audit row committed.
     */
    public DeploymentRecord markCandidate(String runKey, String modelName, int version, String environmentName, String actor) {
        return movePointer(DeploymentRole.CANDIDATE, "environment.candidate_set", runKey, modelName, version, environmentName,
                actor, runKey == null ? null : "candidate from run " + runKey);
    }

    /**
     * Makes {@code version} the live version of {@code environmentName}, the same way as {@link #markCandidate};
     * audits {@code environment.live_set}.
     */
    public DeploymentRecord markLive(String modelName, int version, String environmentName, String actor, String reason) {
        return movePointer(DeploymentRole.LIVE, "environment.live_set", null, modelName, version, environmentName, actor, reason);
    }

    /**
     * The version to beat: the open live pointer of the highest environment that has one; when nothing is
     * live anywhere, the open candidate of the highest environment that has one; else empty.
     */
    public Optional<ChampionRecord> findChampion(String modelName) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            List<Object[]> open = em.createQuery(
                            "select d, e from DeploymentRow d join EnvironmentRow e on e.id = d.environmentId"
                                    + " where e.modelId = :m and d.validTo is null", Object[].class)
                    .setParameter("m", model.id).getResultList();
            Comparator<Object[]> liveFirstThenHighest = Comparator
                    .comparing((Object[] r) -> DeploymentRole.fromDb(((DeploymentRow) r[0]).role) == DeploymentRole.LIVE)
                    .thenComparingInt(r -> ((EnvironmentRow) r[1]).ordinal);
            return open.stream().max(liveFirstThenHighest).map(r -> {
                DeploymentRow d = (DeploymentRow) r[0];
                EnvironmentRow e = (EnvironmentRow) r[1];
                ModelVersionRow v = em.find(ModelVersionRow.class, d.modelVersionId);
                return new ChampionRecord(v.version, v.artifactUri, v.artifactSha256, v.artifactBytes, e.name, DeploymentRole.fromDb(d.role));
            });
        });
    }

    /** Every pointer row of the model, open and closed, by environment (lowest first), then oldest first. */
    public List<DeploymentRecord> deployments(String modelName) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            return em.createQuery("select d, e from DeploymentRow d join EnvironmentRow e on e.id = d.environmentId"
                            + " where e.modelId = :m order by e.ordinal, d.validFrom, d.id", Object[].class)
                    .setParameter("m", model.id).getResultList().stream()
                    .map(r -> deploymentRecord(em, model.name, (DeploymentRow) r[0], (EnvironmentRow) r[1]))
                    .toList();
        });
    }

    // ---------------------------------------------------------------- lineage and audit

    /**
     * A model version with the run that trained it, the dataset versions that fed the run, the deployment
     * pointers it has held, and the audit entries about it.
     */
    public LineageChain lineage(String modelName, int version) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            ModelVersionRow v = versionRow(em, model.id, version)
                    .orElseThrow(() -> unknownVersion(em, model, version));
            TrainingRunRow run = em.find(TrainingRunRow.class, v.trainingRunId);
            List<LineageInput> inputs = em.createQuery(
                            "select e.relation, d from LineageEdgeRow e join DatasetVersionRow d on d.id = e.fromId"
                                    + " where e.fromKind = :ds and e.toKind = :tr and e.toId = :run order by e.id", Object[].class)
                    .setParameter("ds", LineageEdgeRow.DATASET_VERSION)
                    .setParameter("tr", LineageEdgeRow.TRAINING_RUN)
                    .setParameter("run", run.id)
                    .getResultList().stream()
                    .map(r -> new LineageInput(((DatasetVersionRow) r[1]).toRecord(), (String) r[0]))
                    .toList();
            List<DeploymentRecord> deployments = em.createQuery(
                            "select d, e from DeploymentRow d join EnvironmentRow e on e.id = d.environmentId"
                                    + " where d.modelVersionId = :v order by e.ordinal, d.validFrom, d.id", Object[].class)
                    .setParameter("v", v.id).getResultList().stream()
                    .map(r -> deploymentRecord(em, model.name, (DeploymentRow) r[0], (EnvironmentRow) r[1]))
                    .toList();
            List<AuditEntry> history = em.createQuery(
                            "from AuditLogRow a where a.modelName = :m and a.modelVersion = :v order by a.id", AuditLogRow.class)
                    .setParameter("m", model.name).setParameter("v", version)
                    .getResultList().stream().map(AuditLogRow::toEntry).toList();
            return new LineageChain(v.toRecord(model.name, run.runKey), run.toRecord(model.name), inputs, deployments, history);
        });
    }

    /** Appends an audit entry; for failures that have no other row to write (a run that failed before it started). */
    public AuditEntry recordAudit(String actor, String action, AuditOutcome outcome, String modelName, Integer modelVersion,
                                  String runKey, String message, Map<String, Object> details) {
        requireText(actor, "actor");
        requireText(action, "action");
        Objects.requireNonNull(outcome, "outcome");
        return tx.inTransaction(em -> audit(em, actor, action, outcome, modelName, modelVersion, runKey, message, details).toEntry());
    }

    /** The newest {@code query.limit()} matching entries, oldest first. */
    public List<AuditEntry> auditTrail(AuditQuery query) {
        Objects.requireNonNull(query, "query");
        return tx.inTransaction(em -> {
            StringBuilder jpql = new StringBuilder("from AuditLogRow a where 1 = 1");
            if (query.modelName() != null) {
                jpql.append(" and a.modelName = :model");
            }
            if (query.runKey() != null) {
                jpql.append(" and a.runKey = :run");
            }
            jpql.append(" order by a.id desc");
            TypedQuery<AuditLogRow> q = em.createQuery(jpql.toString(), AuditLogRow.class).setMaxResults(query.limit());
            if (query.modelName() != null) {
                q.setParameter("model", query.modelName());
            }
            if (query.runKey() != null) {
                q.setParameter("run", query.runKey());
            }
            List<AuditEntry> entries = new ArrayList<>(q.getResultList().stream().map(AuditLogRow::toEntry).toList());
            Collections.reverse(entries);
            return entries;
        });
    }

    // ---------------------------------------------------------------- internals

    private DeploymentRecord movePointer(DeploymentRole role, String action, String runKey, String modelName, int version,
                                         String environmentName, String actor, String reason) {
        requireText(modelName, "model name");
        requireText(environmentName, "environment name");
        requireText(actor, "actor");
        String roleName = role.dbValue();
        return tx.inTransaction(em -> {
            // Pointer moves of one model are serialized on its row, so the partial unique index never sees a race.
            ModelRow model = modelByName(em, modelName, LockModeType.PESSIMISTIC_WRITE).orElseThrow(() ->
                    auditedFailure(em, actor, action, modelName, version, runKey, unknownModel(em, modelName)));
            List<EnvironmentRow> environments = environmentRows(em, model.id);
            EnvironmentRow env = environments.stream().filter(e -> e.name.equals(environmentName)).findFirst().orElseThrow(() ->
                    auditedFailure(em, actor, action, modelName, version, runKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                            "Model " + modelName + " has no environment '" + environmentName + "'; its environments are "
                                    + environments.stream().map(e -> e.name).collect(Collectors.joining(", "))
                                    + ". Use one of those, or add it to the spec's environments and apply the spec.")));
            ModelVersionRow target = versionRow(em, model.id, version).orElseThrow(() ->
                    auditedFailure(em, actor, action, modelName, version, runKey, unknownVersion(em, model, version)));
            if (target.status != ModelVersionStatus.REGISTERED) {
                throw auditedFailure(em, actor, action, modelName, version, runKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                        modelName + " v" + version + " is " + target.status + " (it did not pass its promotion gates), so it cannot become the "
                                + roleName + " in " + environmentName + ". Pick a REGISTERED version (see the model's versions)."));
            }
            DeploymentRow open = openPointer(em, env.id, roleName).orElse(null);
            if (open != null && open.modelVersionId.equals(target.id)) {
                return deploymentRecord(em, model.name, open, env);
            }
            Instant now = now();
            Integer previous = null;
            if (open != null) {
                open.validTo = now;
                previous = em.find(ModelVersionRow.class, open.modelVersionId).version;
                // Close the old pointer before inserting the new one: Hibernate would otherwise flush the insert first.
                em.flush();
            }
            DeploymentRow row = new DeploymentRow(env.id, target.id, role, now, actor, reason, runKey);
            em.persist(row);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("environment", environmentName);
            details.put("role", roleName);
            details.put("previousVersion", previous);
            audit(em, actor, action, AuditOutcome.SUCCESS, model.name, version, runKey,
                    model.name + " v" + version + " is now the " + roleName + " in " + environmentName
                            + (previous == null ? " (there was none before)" : " (was v" + previous + ")"), details);
            return deploymentRecord(em, model.name, row, env);
        });
    }

    private static AuditOutcome outcomeOf(RunStatus status) {
        return switch (status) {
            case SUCCEEDED -> AuditOutcome.SUCCESS;
            case VALIDATION_FAILED, GATE_FAILED -> AuditOutcome.REJECTED;
            default -> AuditOutcome.FAILURE;
        };
    }

    private static AuditLogRow audit(EntityManager em, String actor, String action, AuditOutcome outcome, String modelName,
                                     Integer modelVersion, String runKey, String message, Map<String, Object> details) {
        AuditLogRow row = new AuditLogRow(now(), actor, action, outcome, modelName, modelVersion, runKey, message,
                details == null ? null : withoutNullValues(details));
        em.persist(row);
        return row;
    }

    /** Writes a FAILURE audit row for a user error; {@link Transactions} commits it before rethrowing the error. */
    private static Transactions.AuditedFailure auditedFailure(EntityManager em, String actor, String action, String modelName,
                                                              Integer modelVersion, String runKey, TrellisException failure) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("errorCode", failure.code().name());
        audit(em, actor, action, AuditOutcome.FAILURE, modelName, modelVersion, runKey, failure.getMessage(), details);
        return new Transactions.AuditedFailure(failure);
    }

    private static Map<String, Object> withoutNullValues(Map<String, Object> details) {
        Map<String, Object> copy = new LinkedHashMap<>();
        details.forEach((k, v) -> {
            if (v != null) {
                copy.put(k, v);
            }
        });
        return copy;
    }

    private static TrellisException unknownModel(EntityManager em, String modelName) {
        List<String> known = em.createQuery("select m.name from ModelRow m order by m.name", String.class)
                .setMaxResults(20).getResultList();
        return new TrellisException(ErrorCode.UNKNOWN_MODEL, "No model named '" + modelName + "' is registered. "
                + (known.isEmpty() ? "No models are registered yet. " : "Registered models: " + String.join(", ", known) + ". ")
                + "Apply the model's spec first, or check the name.");
    }

    private static TrellisException unknownVersion(EntityManager em, ModelRow model, int version) {
        Integer highest = em.createQuery("select max(v.version) from ModelVersionRow v where v.modelId = :m", Integer.class)
                .setParameter("m", model.id).getSingleResult();
        return new TrellisException(ErrorCode.UNKNOWN_MODEL_VERSION, "Model " + model.name + " has no version " + version + "; "
                + (highest == null ? "it has no versions yet: run a retraining first." : "its versions are 1 to " + highest + "."));
    }

    private static ModelRow requireModel(EntityManager em, String modelName) {
        return modelByName(em, modelName, LockModeType.NONE).orElseThrow(() -> unknownModel(em, modelName));
    }

    private static Optional<ModelRow> modelByName(EntityManager em, String name, LockModeType lock) {
        return em.createQuery("from ModelRow m where m.name = :n", ModelRow.class)
                .setParameter("n", name).setLockMode(lock).getResultStream().findFirst();
    }

    private static String modelName(EntityManager em, Long modelId) {
        return em.find(ModelRow.class, modelId).name;
    }

    private static List<EnvironmentRow> environmentRows(EntityManager em, Long modelId) {
        return em.createQuery("from EnvironmentRow e where e.modelId = :m order by e.ordinal, e.id", EnvironmentRow.class)
                .setParameter("m", modelId).getResultList();
    }

    private static Optional<TrainingRunRow> runByKey(EntityManager em, String runKey, LockModeType lock) {
        return em.createQuery("from TrainingRunRow r where r.runKey = :k", TrainingRunRow.class)
                .setParameter("k", runKey).setLockMode(lock).getResultStream().findFirst();
    }

    private static TrainingRunRow requireRun(EntityManager em, String runKey, LockModeType lock) {
        requireText(runKey, "run key");
        return runByKey(em, runKey, lock).orElseThrow(() -> new TrellisException(ErrorCode.INVALID_REQUEST,
                "No training run '" + runKey + "' is recorded; start it with startRun before recording its steps."));
    }

    private static String runKey(EntityManager em, Long runId) {
        return em.find(TrainingRunRow.class, runId).runKey;
    }

    private static DatasetVersionRow requireDataset(EntityManager em, long id) {
        DatasetVersionRow row = em.find(DatasetVersionRow.class, id);
        if (row == null) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "No dataset version with id " + id
                    + " is recorded; record it with recordDatasetVersion or recordIngestion first.");
        }
        return row;
    }

    private static Optional<DatasetVersionRow> datasetByPath(EntityManager em, String tablePath, long deltaVersion) {
        return em.createQuery("from DatasetVersionRow d where d.tablePath = :p and d.deltaVersion = :v", DatasetVersionRow.class)
                .setParameter("p", tablePath).setParameter("v", deltaVersion).getResultStream().findFirst();
    }

    private static Optional<DatasetVersionRow> datasetByIngestKey(EntityManager em, String ingestKey) {
        return em.createQuery("from DatasetVersionRow d where d.ingestKey = :k", DatasetVersionRow.class)
                .setParameter("k", ingestKey).getResultStream().findFirst();
    }

    private static Optional<ModelVersionRow> versionOfRun(EntityManager em, Long runId) {
        return em.createQuery("from ModelVersionRow v where v.trainingRunId = :r", ModelVersionRow.class)
                .setParameter("r", runId).getResultStream().findFirst();
    }

    private static Optional<ModelVersionRow> versionRow(EntityManager em, Long modelId, int version) {
        return em.createQuery("from ModelVersionRow v where v.modelId = :m and v.version = :v", ModelVersionRow.class)
                .setParameter("m", modelId).setParameter("v", version).getResultStream().findFirst();
    }

    private static Optional<DeploymentRow> openPointer(EntityManager em, Long environmentId, String role) {
        return em.createQuery("from DeploymentRow d where d.environmentId = :e and d.role = :r and d.validTo is null",
                        DeploymentRow.class)
                .setParameter("e", environmentId).setParameter("r", role).getResultStream().findFirst();
    }

    private static void ensureEdge(EntityManager em, String fromKind, long fromId, String toKind, long toId, String relation) {
        boolean exists = !em.createQuery("select e.id from LineageEdgeRow e where e.fromKind = :fk and e.fromId = :fi"
                        + " and e.toKind = :tk and e.toId = :ti and e.relation = :rel", Long.class)
                .setParameter("fk", fromKind).setParameter("fi", fromId)
                .setParameter("tk", toKind).setParameter("ti", toId)
                .setParameter("rel", relation).getResultList().isEmpty();
        if (!exists) {
            em.persist(new LineageEdgeRow(fromKind, fromId, toKind, toId, relation, now()));
        }
    }

    private static DeploymentRecord deploymentRecord(EntityManager em, String modelName, DeploymentRow d, EnvironmentRow e) {
        ModelVersionRow v = em.find(ModelVersionRow.class, d.modelVersionId);
        return new DeploymentRecord(d.id, modelName, e.name, e.ordinal, v.version, DeploymentRole.fromDb(d.role),
                d.validFrom, d.validTo, d.deployedBy, d.reason, d.runKey);
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The " + what + " is missing; pass a non-empty value.");
        }
    }

    private static String shortSha(String sha) {
        return sha == null ? "none" : sha.substring(0, Math.min(12, sha.length()));
    }

    /** Postgres keeps microseconds; truncating here makes returned records equal what a later read returns. */
    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
