package io.trellis.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.hibernate.exception.ConstraintViolationException;

/**
 * The model registry: models and their specs, training runs, dataset versions and lineage, model versions,
 * environment pointers and the audit log.
 *
 * <p>Every operation runs in its own transaction, and every state change writes its audit row in that same
 * transaction, so the log never claims a change that did not happen nor misses one that did. Every write is
 * safe to repeat with the same arguments (Temporal retries activities): a repeat returns what the first call
 * recorded and writes no second audit row. {@link #recordAudit} is the one exception: it always appends.
 *
 * <p>User errors are {@link TrellisException}s whose message says what is wrong and how to fix it. The
 * promotion operations (promotions, approvals, deployments, rollbacks, principals) audit every refusal as a
 * REJECTED row under the action that was attempted, committed even though the operation changed nothing else.
 */
public final class Registry {
    /** Actor recorded for what Trellis does on its own (validation verdicts). */
    public static final String SYSTEM_ACTOR = "trellis";
    /** Promotion path used when a spec lists no environments. */
    public static final List<String> DEFAULT_ENVIRONMENTS = List.of("dev", "staging", "production");
    /** The lineage relation of the feature dataset a run trained on ({@link #recordRunInput}). */
    public static final String FEATURES_RELATION = "features";

    private static final ObjectMapper JSON = new ObjectMapper();

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
        return startRun(runKey, workflowRunId, modelName, triggeredBy, reason, specSha256, codeVersion, null);
    }

    /**
     * As above, recording the run's overrides of its spec ({@code RetrainOverrides.describe()}: data window,
     * hyperparameters; null for none) on the run and in its {@code retrain.started} audit row.
     */
    public RunRecord startRun(String runKey, String workflowRunId, String modelName, String triggeredBy, String reason,
                              String specSha256, String codeVersion, Map<String, Object> overrides) {
        requireText(runKey, "run key");
        requireText(modelName, "model name");
        requireText(triggeredBy, "triggeredBy");
        return tx.inTransaction(em -> {
            Optional<TrainingRunRow> existing = runByKey(em, runKey, LockModeType.NONE);
            if (existing.isPresent()) {
                return existing.get().toRecord(modelName(em, existing.get().modelId));
            }
            // The model row's lock serializes concurrent starts of one model, so the check below cannot race.
            ModelRow model = modelByName(em, modelName, LockModeType.PESSIMISTIC_WRITE).orElseThrow(() ->
                    auditedFailure(em, triggeredBy, "retrain.started", modelName, null, runKey, unknownModel(em, modelName)));
            Optional<TrainingRunRow> running = em.createQuery(
                            "from TrainingRunRow r where r.modelId = :m and r.status = :s order by r.id", TrainingRunRow.class)
                    .setParameter("m", model.id).setParameter("s", RunStatus.RUNNING)
                    .setMaxResults(1).getResultStream().findFirst();
            if (running.isPresent()) {
                TrainingRunRow other = running.get();
                throw refused(em, triggeredBy, "retrain.skipped", model.name, null, runKey, new TrellisException(
                        ErrorCode.RETRAIN_ALREADY_RUNNING, "Model " + model.name + " already has a retrain running: "
                        + other.runKey + " (triggered by " + other.triggeredBy + " at " + other.startedAt + "); run " + runKey
                        + " was skipped, since retrains of one model never overlap. Wait for the running one to finish, or cancel it."));
            }
            TrainingRunRow run = new TrainingRunRow(runKey, model.id, workflowRunId, triggeredBy, reason, specSha256, codeVersion, now());
            run.overrides = overrides == null ? null : new LinkedHashMap<>(overrides);
            em.persist(run);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("workflowRunId", workflowRunId);
            details.put("specSha256", specSha256);
            details.put("codeVersion", codeVersion);
            if (overrides != null) {
                details.put("overrides", overrides);
            }
            audit(em, triggeredBy, "retrain.started", AuditOutcome.SUCCESS, model.name, null, runKey,
                    "Run " + runKey + " of model " + model.name + " started" + (reason == null ? "" : ": " + reason), details);
            return run.toRecord(model.name);
        });
    }

    /**
     * Closes every RUNNING run as FAILED with the given reason (an audit row each) and returns their keys. The
     * embedded mode calls it at start: its Temporal server kept workflows in memory, so a run still RUNNING then
     * belonged to a process that is gone and would otherwise block the model's retrains for ever.
     */
    public List<String> abandonRunningRuns(String actor, String reason) {
        requireText(actor, "actor");
        requireText(reason, "reason");
        return tx.inTransaction(em -> {
            List<TrainingRunRow> runs = em.createQuery("from TrainingRunRow r where r.status = :s order by r.id", TrainingRunRow.class)
                    .setParameter("s", RunStatus.RUNNING).setLockMode(LockModeType.PESSIMISTIC_WRITE).getResultList();
            List<String> keys = new ArrayList<>();
            for (TrainingRunRow run : runs) {
                run.status = RunStatus.FAILED;
                run.finishedAt = now();
                run.failureStep = run.currentStep;
                run.failureMessage = "abandoned: " + reason;
                audit(em, actor, "retrain.abandoned", AuditOutcome.FAILURE, modelName(em, run.modelId), null, run.runKey,
                        "Run " + run.runKey + " abandoned: " + reason, new LinkedHashMap<>());
                keys.add(run.runKey);
            }
            return keys;
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
     * audits {@code environment.live_set}. Outside a promotion (an operator's override); an environment of
     * ordinal 2 or more (production) still needs the version to have been live in the one below (INVALID_STATE).
     * Promotions use {@link #deploy}.
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

    // ---------------------------------------------------------------- principals

    /**
     * Adds {@code roles} to the principal {@code name}, creating the principal if it is new, and audits
     * {@code principal.roles_granted}; a no-op (no audit row) when it already holds them all.
     */
    public PrincipalRecord grantRoles(String name, Set<PrincipalRole> roles, String actor) {
        requireText(name, "principal name");
        requireText(actor, "actor");
        if (roles == null || roles.isEmpty() || roles.stream().anyMatch(java.util.Objects::isNull)) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "No role to grant to " + name + "; pass one or more of "
                    + roleNames(EnumSet.allOf(PrincipalRole.class)) + ".");
        }
        Set<PrincipalRole> granted = EnumSet.copyOf(roles);
        return tx.inTransaction(em -> {
            Instant now = now();
            PrincipalRow row = principalByName(em, name, LockModeType.PESSIMISTIC_WRITE).orElse(null);
            boolean created = row == null;
            Set<PrincipalRole> before = created ? EnumSet.noneOf(PrincipalRole.class) : row.roleSet();
            Set<PrincipalRole> after = EnumSet.copyOf(before);
            after.addAll(granted);
            if (!created && after.equals(before)) {
                return row.toRecord();
            }
            if (created) {
                row = new PrincipalRow(name, now);
            }
            row.setRoles(after);
            row.updatedAt = now;
            if (created) {
                em.persist(row);
            }
            Set<PrincipalRole> added = EnumSet.copyOf(after);
            added.removeAll(before);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("principal", name);
            details.put("granted", roleNames(added));
            details.put("roles", roleNames(after));
            audit(em, actor, "principal.roles_granted", AuditOutcome.SUCCESS, null, null, null,
                    "Granted " + String.join(", ", roleNames(added)) + " to " + (created ? "new principal " : "") + name
                            + "; roles now " + String.join(", ", roleNames(after)), details);
            return row.toRecord();
        });
    }

    /**
     * Takes {@code role} away from the principal {@code name} and audits {@code principal.role_revoked}; a no-op
     * when it does not hold the role. An unknown principal is refused (INVALID_REQUEST, REJECTED audit row).
     */
    public PrincipalRecord revokeRole(String name, PrincipalRole role, String actor) {
        requireText(name, "principal name");
        requireText(actor, "actor");
        Objects.requireNonNull(role, "role");
        String action = "principal.role_revoked";
        return tx.inTransaction(em -> {
            PrincipalRow row = principalByName(em, name, LockModeType.PESSIMISTIC_WRITE).orElseThrow(() ->
                    refused(em, actor, action, null, null, null, new TrellisException(ErrorCode.INVALID_REQUEST,
                            "No principal named '" + name + "' is known, so there is no role to revoke; check the name.")));
            Set<PrincipalRole> roles = row.roleSet();
            if (!roles.remove(role)) {
                return row.toRecord();
            }
            row.setRoles(roles);
            row.updatedAt = now();
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("principal", name);
            details.put("revoked", role.dbValue());
            details.put("roles", roleNames(roles));
            audit(em, actor, action, AuditOutcome.SUCCESS, null, null, null, "Revoked " + role.dbValue() + " from " + name
                    + "; roles now " + (roles.isEmpty() ? "none" : String.join(", ", roleNames(roles))), details);
            return row.toRecord();
        });
    }

    public Optional<PrincipalRecord> principal(String name) {
        return tx.inTransaction(em -> principalByName(em, name, LockModeType.NONE).map(PrincipalRow::toRecord));
    }

    // ---------------------------------------------------------------- promotions

    /**
     * Opens the promotion {@code promotionKey} of {@code modelName} v{@code version} towards
     * {@code targetEnvironment} (RUNNING) and audits {@code promotion.requested}. A repeat with the same key
     * returns the promotion recorded first. Refusals write a REJECTED {@code promotion.requested} audit row and
     * change nothing else: an unknown model (UNKNOWN_MODEL), environment (INVALID_REQUEST) or version
     * (UNKNOWN_MODEL_VERSION); a REJECTED version (INVALID_STATE); the first environment, where retraining puts
     * versions (INVALID_REQUEST); a version already live there (INVALID_STATE); another active promotion of the
     * model to that environment (PROMOTION_CONFLICT, naming it). Racing openers are decided by the partial unique
     * index {@code promotions_one_active_idx}: the losers' inserts fail, and rerunning them finds the winner.
     */
    public PromotionRecord openPromotion(String promotionKey, String modelName, int version, String targetEnvironment,
                                         String requestedBy, String reason) {
        requireText(promotionKey, "promotion key");
        requireText(modelName, "model name");
        requireText(targetEnvironment, "target environment");
        requireText(requestedBy, "requestedBy");
        String action = "promotion.requested";
        try {
            return tx.inTransaction(em -> {
                Optional<PromotionRow> existing = promotionByKey(em, promotionKey, LockModeType.NONE);
                if (existing.isPresent()) {
                    PromotionRecord first = promotionRecord(em, existing.get());
                    if (first.modelName().equals(modelName) && first.version() == version
                            && first.targetEnvironment().equals(targetEnvironment)) {
                        return first;
                    }
                    throw refused(em, requestedBy, action, modelName, version, promotionKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                            "Promotion key '" + promotionKey + "' already names the promotion of " + first.modelName() + " v"
                                    + first.version() + " to " + first.targetEnvironment() + ", not " + modelName + " v" + version
                                    + " to " + targetEnvironment + "; use one key per promotion (promote/<model>/v<version>/<environment>)."));
                }
                ModelRow model = modelByName(em, modelName, LockModeType.NONE).orElseThrow(() ->
                        refused(em, requestedBy, action, modelName, version, promotionKey, unknownModel(em, modelName)));
                List<EnvironmentRow> environments = environmentRows(em, model.id);
                EnvironmentRow target = environment(environments, targetEnvironment).orElseThrow(() ->
                        refused(em, requestedBy, action, modelName, version, promotionKey,
                                unknownEnvironment(modelName, targetEnvironment, environments)));
                ModelVersionRow v = versionRow(em, model.id, version).orElseThrow(() ->
                        refused(em, requestedBy, action, modelName, version, promotionKey, unknownVersion(em, model, version)));
                if (v.status != ModelVersionStatus.REGISTERED) {
                    throw refused(em, requestedBy, action, modelName, version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                            modelName + " v" + version + " is " + v.status + ": it did not pass its promotion gates when it was trained,"
                                    + " so it cannot be promoted. Promote a REGISTERED version, or retrain the model."));
                }
                Optional<TrellisException> purged = purgedArtifact(em, model.name, v, "promoted to " + target.name);
                if (purged.isPresent()) {
                    throw refused(em, requestedBy, action, modelName, version, promotionKey, purged.get());
                }
                if (target.ordinal == 0) {
                    throw refused(em, requestedBy, action, modelName, version, promotionKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                            "Versions are not promoted to " + target.name + ", the first environment of model " + modelName
                                    + ": each retraining puts its new version there as the candidate. Promote to "
                                    + environments.stream().filter(e -> e.ordinal > 0).map(e -> e.name).collect(Collectors.joining(" or "))
                                    + " instead."));
                }
                DeploymentRow live = openPointer(em, target.id, DeploymentRole.LIVE.dbValue()).orElse(null);
                if (live != null && live.modelVersionId.equals(v.id)) {
                    throw refused(em, requestedBy, action, modelName, version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                            modelName + " v" + version + " is already live in " + target.name + " (since " + live.validFrom
                                    + "), so there is nothing to promote. Promote a newer version, or use rollback to go back to an older one."));
                }
                Optional<PromotionRow> active = activePromotion(em, model.id, target.id);
                if (active.isPresent()) {
                    throw refused(em, requestedBy, action, modelName, version, promotionKey, promotionConflict(em, active.get(), model.name, target.name));
                }
                PromotionRow row = new PromotionRow(promotionKey, model.id, v.id, target.id, requestedBy, reason, now());
                em.persist(row);
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("promotionKey", promotionKey);
                details.put("targetEnvironment", target.name);
                details.put("reason", reason);
                audit(em, requestedBy, action, AuditOutcome.SUCCESS, model.name, version, promotionKey,
                        requestedBy + " requested the promotion of " + model.name + " v" + version + " to " + target.name
                                + (reason == null ? "" : ": " + reason), details);
                return row.toRecord(model.name, version, target.name);
            });
        } catch (RuntimeException e) {
            if (!violates(e, "promotions_one_active_idx")) {
                throw e;
            }
            // Still losing after every rerun (the winner kept changing): say so, the same way as the check above.
            return tx.inTransaction(em -> {
                ModelRow model = requireModel(em, modelName);
                EnvironmentRow target = environment(environmentRows(em, model.id), targetEnvironment).orElseThrow();
                PromotionRow other = activePromotion(em, model.id, target.id).orElseThrow(() -> e);
                throw refused(em, requestedBy, action, modelName, version, promotionKey, promotionConflict(em, other, model.name, target.name));
            });
        }
    }

    public Optional<PromotionRecord> promotion(String promotionKey) {
        return tx.inTransaction(em -> promotionByKey(em, promotionKey, LockModeType.NONE).map(p -> promotionRecord(em, p)));
    }

    /** Every promotion of the model, oldest first. */
    public List<PromotionRecord> promotions(String modelName) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            return em.createQuery("from PromotionRow p where p.modelId = :m order by p.startedAt, p.id", PromotionRow.class)
                    .setParameter("m", model.id).getResultList().stream()
                    .map(p -> promotionRecord(em, p)).toList();
        });
    }

    /** The promotions of one version of {@code modelName}, oldest first. */
    public List<PromotionRecord> promotions(String modelName, int version) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            return em.createQuery("select p from PromotionRow p join ModelVersionRow v on v.id = p.modelVersionId"
                            + " where p.modelId = :m and v.version = :v order by p.startedAt, p.id", PromotionRow.class)
                    .setParameter("m", model.id).setParameter("v", version).getResultList().stream()
                    .map(p -> promotionRecord(em, p)).toList();
        });
    }

    /**
     * Records the report of one stage of an active promotion: {@code stageReport} must name its
     * {@code environment} (one the promotion passes through) and holds whatever the workflow measured there
     * (gates with observed, threshold and passed; the shadow comparison). A later report for the same environment
     * replaces the earlier one; an identical repeat changes nothing. Audits {@code promotion.stage_passed}
     * ({@code outcome} SUCCESS) or {@code promotion.gate_failed} (REJECTED or FAILURE) as {@link #SYSTEM_ACTOR}.
     */
    public PromotionRecord recordStage(String promotionKey, Map<String, Object> stageReport, AuditOutcome outcome) {
        requireText(promotionKey, "promotion key");
        Objects.requireNonNull(outcome, "outcome");
        if (stageReport == null || !(stageReport.get(PromotionRow.STAGE_ENVIRONMENT) instanceof String environment)
                || environment.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The stage report of promotion " + promotionKey
                    + " does not name its environment; put the environment's name under \"" + PromotionRow.STAGE_ENVIRONMENT + "\".");
        }
        Map<String, Object> report = normalizedJson(stageReport);
        String action = outcome == AuditOutcome.SUCCESS ? "promotion.stage_passed" : "promotion.gate_failed";
        return tx.inTransaction(em -> {
            PromotionRow p = requirePromotion(em, promotionKey, SYSTEM_ACTOR, action);
            PromotionRecord before = promotionRecord(em, p);
            Optional<Map<String, Object>> previous = before.stage(environment);
            if (previous.isPresent() && previous.get().equals(report)) {
                return before;
            }
            List<EnvironmentRow> environments = environmentRows(em, p.modelId);
            int targetOrdinal = em.find(EnvironmentRow.class, p.targetEnvironmentId).ordinal;
            Optional<EnvironmentRow> env = environment(environments, environment);
            if (env.isEmpty() || env.get().ordinal == 0 || env.get().ordinal > targetOrdinal) {
                throw refused(em, SYSTEM_ACTOR, action, before.modelName(), before.version(), promotionKey, new TrellisException(
                        ErrorCode.INVALID_REQUEST, "Promotion " + promotionKey + " does not pass through '" + environment
                                + "'; its stages are " + stagesOf(environments, targetOrdinal) + "."));
            }
            if (!p.status.isActive()) {
                throw refused(em, SYSTEM_ACTOR, action, before.modelName(), before.version(), promotionKey, finished(p));
            }
            List<Map<String, Object>> stages = new ArrayList<>(before.stages());
            stages.removeIf(s -> environment.equals(s.get(PromotionRow.STAGE_ENVIRONMENT)));
            stages.add(report);
            p.stages = stages;
            String summary = report.get("summary") instanceof String s ? ": " + s : "";
            audit(em, SYSTEM_ACTOR, action, outcome, before.modelName(), before.version(), promotionKey,
                    before.modelName() + " v" + before.version() + (outcome == AuditOutcome.SUCCESS ? " passed" : " failed")
                            + " its gates in " + environment + summary, report);
            return promotionRecord(em, p);
        });
    }

    /** Moves a RUNNING promotion to AWAITING_APPROVAL and audits {@code promotion.awaiting_approval}; a repeat is a no-op. */
    public PromotionRecord awaitApproval(String promotionKey) {
        requireText(promotionKey, "promotion key");
        String action = "promotion.awaiting_approval";
        return tx.inTransaction(em -> {
            PromotionRow p = requirePromotion(em, promotionKey, SYSTEM_ACTOR, action);
            PromotionRecord record = promotionRecord(em, p);
            if (p.status == PromotionStatus.AWAITING_APPROVAL) {
                return record;
            }
            if (p.status != PromotionStatus.RUNNING) {
                throw refused(em, SYSTEM_ACTOR, action, record.modelName(), record.version(), promotionKey, finished(p));
            }
            p.status = PromotionStatus.AWAITING_APPROVAL;
            audit(em, SYSTEM_ACTOR, action, AuditOutcome.SUCCESS, record.modelName(), record.version(), promotionKey,
                    record.modelName() + " v" + record.version() + " is waiting for an approver to promote it to "
                            + record.targetEnvironment() + " (promotion " + promotionKey + ")", Map.of("promotionKey", promotionKey));
            return promotionRecord(em, p);
        });
    }

    /**
     * Records an approver's decision on a promotion that is AWAITING_APPROVAL and audits {@code promotion.approved}
     * or {@code promotion.rejected}; the status stays AWAITING_APPROVAL until {@link #finishPromotion}. The same
     * approver repeating the same decision gets the promotion back unchanged. Refusals (a REJECTED audit row, no
     * change): not awaiting approval, e.g. already decided (INVALID_STATE); a rejection without a reason
     * (INVALID_REQUEST); an approver who is not a principal with the {@code approver} role (FORBIDDEN); four-eyes:
     * the approver triggered the retraining that produced the version, or requested the promotion (FORBIDDEN).
     */
    public PromotionRecord decide(String promotionKey, String approver, Decision decision, String reason) {
        requireText(promotionKey, "promotion key");
        requireText(approver, "approver");
        Objects.requireNonNull(decision, "decision");
        String action = decision == Decision.APPROVED ? "promotion.approved" : "promotion.rejected";
        return tx.inTransaction(em -> {
            PromotionRow p = requirePromotion(em, promotionKey, approver, action);
            PromotionRecord record = promotionRecord(em, p);
            String model = record.modelName();
            int version = record.version();
            if (p.decision != null) {
                if (p.decision == decision && approver.equals(p.decidedBy)) {
                    return record;
                }
                throw refused(em, approver, action, model, version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                        "Promotion " + promotionKey + " is not awaiting approval: " + p.decidedBy + " already "
                                + p.decision.name().toLowerCase(Locale.ROOT) + " it at " + p.decidedAt
                                + ". A decision is final; to ask again, start a new promotion."));
            }
            if (p.status != PromotionStatus.AWAITING_APPROVAL) {
                throw refused(em, approver, action, model, version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                        "Promotion " + promotionKey + " is not awaiting approval: "
                                + (p.status == PromotionStatus.RUNNING
                                        ? "its stages are still running; decide once it asks for an approval."
                                        : "it finished as " + p.status + " at " + p.finishedAt + "; start a new promotion to try again.")));
            }
            if (decision == Decision.REJECTED && (reason == null || reason.isBlank())) {
                throw refused(em, approver, action, model, version, promotionKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                        "Rejecting promotion " + promotionKey + " needs a reason, so that the requester knows what to fix; pass one."));
            }
            PrincipalRow principal = principalByName(em, approver, LockModeType.NONE).orElse(null);
            if (principal == null || !principal.roleSet().contains(PrincipalRole.APPROVER)) {
                throw refused(em, approver, action, model, version, promotionKey, new TrellisException(ErrorCode.FORBIDDEN,
                        approver + " may not decide on promotion " + promotionKey + ": "
                                + (principal == null ? approver + " is not a known principal"
                                        : approver + " holds " + (principal.roles.length == 0 ? "no roles" : "only " + String.join(", ", principal.roles)))
                                + ", and deciding needs the " + PrincipalRole.APPROVER.dbValue()
                                + " role. Ask an admin to grant it, or ask an approver to decide."));
            }
            TrainingRunRow run = em.find(TrainingRunRow.class, em.find(ModelVersionRow.class, p.modelVersionId).trainingRunId);
            if (approver.equals(run.triggeredBy) || approver.equals(p.requestedBy)) {
                String role = approver.equals(run.triggeredBy)
                        ? "triggered the retraining (" + run.runKey + ") that produced " + model + " v" + version
                        : "requested this promotion";
                throw refused(em, approver, action, model, version, promotionKey, new TrellisException(ErrorCode.FORBIDDEN,
                        approver + " may not decide on promotion " + promotionKey + " (four-eyes rule): " + approver + " " + role
                                + ". Another approver must decide."));
            }
            p.decision = decision;
            p.decidedBy = approver;
            p.decisionReason = reason;
            p.decidedAt = now();
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("promotionKey", promotionKey);
            details.put("decision", decision.name());
            details.put("reason", reason);
            audit(em, approver, action, AuditOutcome.SUCCESS, model, version, promotionKey,
                    approver + " " + decision.name().toLowerCase(Locale.ROOT) + " the promotion of " + model + " v" + version
                            + " to " + record.targetEnvironment() + (reason == null || reason.isBlank() ? "" : ": " + reason), details);
            return promotionRecord(em, p);
        });
    }

    /**
     * Makes the promotion's version live in {@code environment}: closes the previous live pointer there (and the
     * version's candidate pointer, if it has one there) and opens a live pointer tagged with the promotion key.
     * Audits {@code environment.deployed} with the previous and new versions. When the version is already live
     * there, returns that pointer and changes nothing. Refusals (REJECTED audit row): an unknown promotion or
     * environment, or one off the promotion's path (INVALID_REQUEST); a finished or rejected promotion, the
     * model's last environment without an approval, or an environment whose predecessor the version has not been
     * live in (INVALID_STATE).
     */
    public DeploymentRecord deploy(String promotionKey, String environment, String actor) {
        requireText(promotionKey, "promotion key");
        requireText(environment, "environment name");
        requireText(actor, "actor");
        String action = "environment.deployed";
        return tx.inTransaction(em -> {
            PromotionRow p = requirePromotion(em, promotionKey, actor, action);
            // Pointer moves of one model are serialized on its row, as in movePointer and rollback.
            ModelRow model = em.find(ModelRow.class, p.modelId, LockModeType.PESSIMISTIC_WRITE);
            ModelVersionRow v = em.find(ModelVersionRow.class, p.modelVersionId);
            List<EnvironmentRow> environments = environmentRows(em, model.id);
            EnvironmentRow target = em.find(EnvironmentRow.class, p.targetEnvironmentId);
            EnvironmentRow env = environment(environments, environment).orElseThrow(() ->
                    refused(em, actor, action, model.name, v.version, promotionKey, unknownEnvironment(model.name, environment, environments)));
            DeploymentRow live = openPointer(em, env.id, DeploymentRole.LIVE.dbValue()).orElse(null);
            if (live != null && live.modelVersionId.equals(v.id)) {
                return deploymentRecord(em, model.name, live, env);
            }
            if (!p.status.isActive()) {
                throw refused(em, actor, action, model.name, v.version, promotionKey, finished(p));
            }
            if (env.ordinal == 0 || env.ordinal > target.ordinal) {
                throw refused(em, actor, action, model.name, v.version, promotionKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                        "Promotion " + promotionKey + " does not deploy to " + env.name + "; it deploys " + model.name + " v"
                                + v.version + " to " + stagesOf(environments, target.ordinal) + ", in that order."));
            }
            if (p.decision == Decision.REJECTED) {
                throw refused(em, actor, action, model.name, v.version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                        "Promotion " + promotionKey + " was rejected by " + p.decidedBy + " (" + p.decisionReason
                                + "), so it deploys nothing; finish it as REJECTED."));
            }
            boolean last = env.ordinal == environments.get(environments.size() - 1).ordinal;
            if (last && p.decision != Decision.APPROVED) {
                throw refused(em, actor, action, model.name, v.version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                        model.name + " v" + v.version + " cannot be deployed to " + env.name + " before an approver approves promotion "
                                + promotionKey + " (it is " + p.status + "). Ask an approver other than the requester and the"
                                + " person who triggered the retraining to approve it."));
            }
            Optional<EnvironmentRow> below = environmentBelow(environments, env);
            if (env.ordinal >= 2 && below.isPresent() && !wasLive(em, v.id, below.get().id) && !wasLive(em, v.id, env.id)) {
                throw refused(em, actor, action, model.name, v.version, promotionKey, new TrellisException(ErrorCode.INVALID_STATE,
                        model.name + " v" + v.version + " cannot go live in " + env.name + " before it has been live in "
                                + below.get().name + "; deploy it to " + below.get().name + " first."));
            }
            Instant now = now();
            Integer previous = null;
            if (live != null) {
                live.validTo = now;
                previous = versionNumber(em, live.modelVersionId);
            }
            openPointer(em, env.id, DeploymentRole.CANDIDATE.dbValue())
                    .filter(c -> c.modelVersionId.equals(v.id))
                    .ifPresent(c -> c.validTo = now);
            // Close the old pointers before inserting the new one: Hibernate would otherwise flush the insert first.
            em.flush();
            DeploymentRow row = new DeploymentRow(env.id, v.id, DeploymentRole.LIVE, now, actor, "promotion " + promotionKey, promotionKey);
            em.persist(row);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("promotionKey", promotionKey);
            details.put("environment", env.name);
            details.put("fromVersion", previous);
            details.put("toVersion", v.version);
            audit(em, actor, action, AuditOutcome.SUCCESS, model.name, v.version, promotionKey,
                    model.name + " v" + v.version + " is now live in " + env.name
                            + (previous == null ? " (nothing was live before)" : " (was v" + previous + ")"), details);
            return deploymentRecord(em, model.name, row, env);
        });
    }

    /**
     * Finishes an active promotion with a final {@code status} and audits {@code promotion.<status>} (DEPLOYED:
     * SUCCESS; GATE_FAILED, REJECTED, EXPIRED: REJECTED; FAILED: FAILURE). A finished promotion is returned
     * unchanged: the first finish wins. DEPLOYED needs the version live in the target environment (INVALID_STATE).
     *
     * @param message why it ended (stored and audited), or null
     */
    public PromotionRecord finishPromotion(String promotionKey, PromotionStatus status, String message, String actor) {
        requireText(promotionKey, "promotion key");
        requireText(actor, "actor");
        Objects.requireNonNull(status, "status");
        if (status.isActive()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Cannot finish promotion " + promotionKey + " with status "
                    + status + "; pass DEPLOYED, GATE_FAILED, REJECTED, EXPIRED or FAILED.");
        }
        String action = "promotion." + status.name().toLowerCase(Locale.ROOT);
        return tx.inTransaction(em -> {
            PromotionRow p = requirePromotion(em, promotionKey, actor, action);
            PromotionRecord record = promotionRecord(em, p);
            if (!p.status.isActive()) {
                return record;
            }
            if (status == PromotionStatus.DEPLOYED && openPointer(em, p.targetEnvironmentId, DeploymentRole.LIVE.dbValue())
                    .filter(d -> d.modelVersionId.equals(p.modelVersionId)).isEmpty()) {
                throw refused(em, actor, action, record.modelName(), record.version(), promotionKey, new TrellisException(
                        ErrorCode.INVALID_STATE, "Promotion " + promotionKey + " cannot finish as DEPLOYED: " + record.modelName()
                                + " v" + record.version() + " is not live in " + record.targetEnvironment() + ". Deploy it there first."));
            }
            p.status = status;
            p.finishedAt = now();
            p.message = message;
            AuditOutcome outcome = switch (status) {
                case DEPLOYED -> AuditOutcome.SUCCESS;
                case FAILED -> AuditOutcome.FAILURE;
                default -> AuditOutcome.REJECTED;
            };
            String text = "Promotion of " + record.modelName() + " v" + record.version() + " to " + record.targetEnvironment() + " "
                    + switch (status) {
                        case DEPLOYED -> "completed";
                        case GATE_FAILED -> "stopped: the version failed its gates";
                        case REJECTED -> "stopped: it was rejected";
                        case EXPIRED -> "expired: nobody decided in time";
                        default -> "failed";
                    } + (message == null ? "" : ": " + message);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("promotionKey", promotionKey);
            details.put("status", status.name());
            audit(em, actor, action, outcome, record.modelName(), record.version(), promotionKey, text, details);
            return promotionRecord(em, p);
        });
    }

    /**
     * Puts back a version that was live in {@code environment} before: {@code toVersion}, or when null the one
     * live right before the current one. Closes the current live pointer and opens a new one (history is never
     * rewritten) and audits {@code environment.rolled_back}. Safe to repeat: when {@code toVersion} is already
     * live, or (with {@code toVersion} null) the current pointer is this actor's rollback with this reason, the
     * current pointer is returned unchanged. Refusals (REJECTED audit row): no reason (INVALID_REQUEST); nothing
     * live, no earlier version, or a version never live there (INVALID_STATE).
     */
    public DeploymentRecord rollback(String modelName, String environment, Integer toVersion, String actor, String reason) {
        requireText(modelName, "model name");
        requireText(environment, "environment name");
        requireText(actor, "actor");
        String action = "environment.rolled_back";
        return tx.inTransaction(em -> {
            ModelRow model = modelByName(em, modelName, LockModeType.PESSIMISTIC_WRITE).orElseThrow(() ->
                    refused(em, actor, action, modelName, toVersion, null, unknownModel(em, modelName)));
            List<EnvironmentRow> environments = environmentRows(em, model.id);
            EnvironmentRow env = environment(environments, environment).orElseThrow(() ->
                    refused(em, actor, action, modelName, toVersion, null, unknownEnvironment(modelName, environment, environments)));
            if (reason == null || reason.isBlank()) {
                throw refused(em, actor, action, modelName, toVersion, null, new TrellisException(ErrorCode.INVALID_REQUEST,
                        "Rolling back " + modelName + " in " + environment + " needs a reason (what is wrong with the live version); pass one."));
            }
            DeploymentRow current = openPointer(em, env.id, DeploymentRole.LIVE.dbValue()).orElseThrow(() ->
                    refused(em, actor, action, modelName, toVersion, null, new TrellisException(ErrorCode.INVALID_STATE,
                            "Nothing is live in " + environment + " for model " + modelName
                                    + ", so there is nothing to roll back. Promote a version there instead.")));
            int currentVersion = versionNumber(em, current.modelVersionId);
            List<DeploymentRow> history = liveRows(em, env.id);
            ModelVersionRow restore;
            if (toVersion == null) {
                if (actor.equals(current.deployedBy) && reason.equals(current.reason) && isRollback(em, current.id)) {
                    return deploymentRecord(em, model.name, current, env);
                }
                int at = history.indexOf(current);
                DeploymentRow previous = null;
                for (int i = at - 1; i >= 0 && previous == null; i--) {
                    if (!history.get(i).modelVersionId.equals(current.modelVersionId)) {
                        previous = history.get(i);
                    }
                }
                if (previous == null) {
                    throw refused(em, actor, action, modelName, currentVersion, null, new TrellisException(ErrorCode.INVALID_STATE,
                            modelName + " v" + currentVersion + " is the only version that has been live in " + environment
                                    + ", so there is no previous version to roll back to. Promote another version instead."));
                }
                restore = em.find(ModelVersionRow.class, previous.modelVersionId);
            } else {
                if (toVersion == currentVersion) {
                    return deploymentRecord(em, model.name, current, env);
                }
                restore = versionRow(em, model.id, toVersion).orElseThrow(() ->
                        refused(em, actor, action, modelName, toVersion, null, unknownVersion(em, model, toVersion)));
                if (history.stream().noneMatch(d -> d.modelVersionId.equals(restore.id))) {
                    throw refused(em, actor, action, modelName, toVersion, null, new TrellisException(ErrorCode.INVALID_STATE,
                            modelName + " v" + toVersion + " has never been live in " + environment + ", so a rollback cannot restore it"
                                    + " (versions live there so far: " + history.stream().map(d -> "v" + versionNumber(em, d.modelVersionId))
                                    .distinct().collect(Collectors.joining(", ")) + "). Promote it instead."));
                }
            }
            Optional<TrellisException> purged = purgedArtifact(em, model.name, restore, "restored in " + environment + " by a rollback");
            if (purged.isPresent()) {
                throw refused(em, actor, action, modelName, restore.version, null, purged.get());
            }
            Instant now = now();
            current.validTo = now;
            em.flush();
            DeploymentRow row = new DeploymentRow(env.id, restore.id, DeploymentRole.LIVE, now, actor, reason, null);
            em.persist(row);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("environment", environment);
            details.put("fromVersion", currentVersion);
            details.put("toVersion", restore.version);
            details.put("deploymentId", row.id);
            audit(em, actor, action, AuditOutcome.SUCCESS, model.name, restore.version, null,
                    actor + " rolled " + model.name + " in " + environment + " back from v" + currentVersion + " to v" + restore.version
                            + ": " + reason, details);
            return deploymentRecord(em, model.name, row, env);
        });
    }

    /** The open live pointer of {@code environment}, if any. */
    public Optional<DeploymentRecord> live(String modelName, String environment) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            EnvironmentRow env = requireEnvironment(em, model, environment);
            return openPointer(em, env.id, DeploymentRole.LIVE.dbValue()).map(d -> deploymentRecord(em, model.name, d, env));
        });
    }

    /** Every live pointer {@code environment} has had, oldest first; the last is open while something is live. */
    public List<DeploymentRecord> liveHistory(String modelName, String environment) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            EnvironmentRow env = requireEnvironment(em, model, environment);
            return liveRows(em, env.id).stream().map(d -> deploymentRecord(em, model.name, d, env)).toList();
        });
    }

    /** The version live in {@code environment} as a champion to compare with, if one is live there. */
    public Optional<ChampionRecord> liveChampion(String modelName, String environment) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            EnvironmentRow env = requireEnvironment(em, model, environment);
            return openPointer(em, env.id, DeploymentRole.LIVE.dbValue()).map(d -> {
                ModelVersionRow v = em.find(ModelVersionRow.class, d.modelVersionId);
                return new ChampionRecord(v.version, v.artifactUri, v.artifactSha256, v.artifactBytes, env.name, DeploymentRole.LIVE);
            });
        });
    }

    /** What a promotion needs to know about a version: see {@link ModelVersionContext}. */
    public ModelVersionContext versionContext(String modelName, int version) {
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            ModelVersionRow v = versionRow(em, model.id, version).orElseThrow(() -> unknownVersion(em, model, version));
            TrainingRunRow run = em.find(TrainingRunRow.class, v.trainingRunId);
            Boolean validationPassed = em.createQuery("select r.passed from ValidationReportRow r where r.trainingRunId = :r", Boolean.class)
                    .setParameter("r", run.id).getResultStream().findFirst().orElse(null);
            DatasetVersionRecord features = em.createQuery("select d from LineageEdgeRow e join DatasetVersionRow d on d.id = e.fromId"
                            + " where e.fromKind = :ds and e.toKind = :tr and e.toId = :run and e.relation = :rel order by e.id desc",
                            DatasetVersionRow.class)
                    .setParameter("ds", LineageEdgeRow.DATASET_VERSION)
                    .setParameter("tr", LineageEdgeRow.TRAINING_RUN)
                    .setParameter("run", run.id)
                    .setParameter("rel", FEATURES_RELATION)
                    .setMaxResults(1).getResultStream().findFirst().map(DatasetVersionRow::toRecord).orElse(null);
            List<String> environments = environmentRows(em, model.id).stream().map(e -> e.name).toList();
            return new ModelVersionContext(model.name, v.version, v.status, v.algorithm, v.metrics, v.artifactUri, v.artifactSha256,
                    v.artifactBytes, run.runKey, run.triggeredBy, validationPassed, features, environments);
        });
    }

    // ---------------------------------------------------------------- lineage and audit

    /** The spec text {@code modelName} had when its hash was {@code specSha256} (what a run recorded), if it was ever applied. */
    public Optional<String> specYaml(String modelName, String specSha256) {
        requireText(modelName, "model name");
        return tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            return em.createQuery("select s.specYaml from ModelSpecRow s where s.modelId = :m and s.specSha256 = :sha", String.class)
                    .setParameter("m", model.id).setParameter("sha", specSha256).getResultStream().findFirst();
        });
    }

    /** The lineage relation from a model version to the predictions table version it wrote. */
    public static final String SCORED_RELATION = "scored";
    /** The lineage relation from the dataset version a scoring run read to the predictions it wrote. */
    public static final String SCORED_FROM_RELATION = "scored_from";

    /**
     * Records that {@code modelName} v{@code version} wrote the predictions dataset version {@code predictionsDatasetId}
     * from version {@code sourceVersion} of {@code sourceTable}: an edge from the model version, and one from the
     * source dataset version when that version is recorded. Safe to repeat.
     */
    public void recordScoringLineage(String modelName, int version, long predictionsDatasetId, String sourceTable, long sourceVersion) {
        requireText(modelName, "model name");
        tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            ModelVersionRow v = versionRow(em, model.id, version).orElseThrow(() -> unknownVersion(em, model, version));
            DatasetVersionRow predictions = requireDataset(em, predictionsDatasetId);
            ensureEdge(em, LineageEdgeRow.MODEL_VERSION, v.id, LineageEdgeRow.DATASET_VERSION, predictions.id, SCORED_RELATION);
            if (sourceTable != null) {
                datasetByPath(em, sourceTable, sourceVersion).ifPresent(source -> ensureEdge(em, LineageEdgeRow.DATASET_VERSION, source.id,
                        LineageEdgeRow.DATASET_VERSION, predictions.id, SCORED_FROM_RELATION));
            }
            return null;
        });
    }

    /** The lineage relation from a promotion to the predictions version its shadow run wrote. */
    public static final String SHADOW_RUN_RELATION = "shadow_run";

    /**
     * Records a promotion's shadow run: the predictions dataset version {@code predictionsDatasetId} was written by the
     * candidate {@code modelName} v{@code candidateVersion} and, beside it on the same rows, by the production version
     * {@code productionVersion} (null when nothing was live there), during promotion {@code promotionKey}, from version
     * {@code sourceVersion} of {@code sourceTable} (when recorded). Edges: each model version {@value #SCORED_RELATION} the
     * predictions (so the prediction-producer query names both), the promotion {@value #SHADOW_RUN_RELATION} them, the source
     * version {@value #SCORED_FROM_RELATION} them (so the dataset's downstream reaches them). Safe to repeat.
     */
    public void recordShadowLineage(String promotionKey, String modelName, int candidateVersion, Integer productionVersion,
                                    long predictionsDatasetId, String sourceTable, Long sourceVersion) {
        requireText(promotionKey, "promotion key");
        requireText(modelName, "model name");
        tx.inTransaction(em -> {
            ModelRow model = requireModel(em, modelName);
            PromotionRow promotion = promotionByKey(em, promotionKey, LockModeType.NONE).orElseThrow(() -> new TrellisException(
                    ErrorCode.INVALID_REQUEST, "No promotion '" + promotionKey + "' is recorded; open it with openPromotion first, or check the key."));
            DatasetVersionRow predictions = requireDataset(em, predictionsDatasetId);
            ModelVersionRow candidate = versionRow(em, model.id, candidateVersion).orElseThrow(() -> unknownVersion(em, model, candidateVersion));
            ensureEdge(em, LineageEdgeRow.MODEL_VERSION, candidate.id, LineageEdgeRow.DATASET_VERSION, predictions.id, SCORED_RELATION);
            if (productionVersion != null) {
                ModelVersionRow production = versionRow(em, model.id, productionVersion)
                        .orElseThrow(() -> unknownVersion(em, model, productionVersion));
                ensureEdge(em, LineageEdgeRow.MODEL_VERSION, production.id, LineageEdgeRow.DATASET_VERSION, predictions.id, SCORED_RELATION);
            }
            ensureEdge(em, LineageEdgeRow.PROMOTION, promotion.id, LineageEdgeRow.DATASET_VERSION, predictions.id, SHADOW_RUN_RELATION);
            if (sourceTable != null && sourceVersion != null) {
                datasetByPath(em, sourceTable, sourceVersion).ifPresent(source -> ensureEdge(em, LineageEdgeRow.DATASET_VERSION, source.id,
                        LineageEdgeRow.DATASET_VERSION, predictions.id, SCORED_FROM_RELATION));
            }
            return null;
        });
    }

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
            if (query.from() != null) {
                jpql.append(" and a.occurredAt >= :from");
            }
            if (query.to() != null) {
                jpql.append(" and a.occurredAt < :to");
            }
            jpql.append(" order by a.id desc");
            TypedQuery<AuditLogRow> q = em.createQuery(jpql.toString(), AuditLogRow.class).setMaxResults(query.limit());
            if (query.modelName() != null) {
                q.setParameter("model", query.modelName());
            }
            if (query.runKey() != null) {
                q.setParameter("run", query.runKey());
            }
            if (query.from() != null) {
                q.setParameter("from", query.from());
            }
            if (query.to() != null) {
                q.setParameter("to", query.to());
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
            EnvironmentRow env = environment(environments, environmentName).orElseThrow(() ->
                    auditedFailure(em, actor, action, modelName, version, runKey, unknownEnvironment(modelName, environmentName, environments)));
            ModelVersionRow target = versionRow(em, model.id, version).orElseThrow(() ->
                    auditedFailure(em, actor, action, modelName, version, runKey, unknownVersion(em, model, version)));
            if (target.status != ModelVersionStatus.REGISTERED) {
                throw auditedFailure(em, actor, action, modelName, version, runKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                        modelName + " v" + version + " is " + target.status + " (it did not pass its promotion gates), so it cannot become the "
                                + roleName + " in " + environmentName + ". Pick a REGISTERED version (see the model's versions)."));
            }
            Optional<TrellisException> purged = purgedArtifact(em, model.name, target, "made the " + roleName + " version in " + environmentName);
            if (purged.isPresent()) {
                throw auditedFailure(em, actor, action, modelName, version, runKey, purged.get());
            }
            DeploymentRow open = openPointer(em, env.id, roleName).orElse(null);
            if (open != null && open.modelVersionId.equals(target.id)) {
                return deploymentRecord(em, model.name, open, env);
            }
            // The deployments trigger enforces this too; checking first gives an audited, readable refusal.
            Optional<EnvironmentRow> below = environmentBelow(environments, env);
            if (role == DeploymentRole.LIVE && env.ordinal >= 2 && below.isPresent()
                    && !wasLive(em, target.id, below.get().id) && !wasLive(em, target.id, env.id)) {
                throw auditedFailure(em, actor, action, modelName, version, runKey, new TrellisException(ErrorCode.INVALID_STATE,
                        modelName + " v" + version + " cannot go live in " + environmentName + " before it has been live in "
                                + below.get().name + "; promote it through " + below.get().name + " first."));
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

    static AuditLogRow audit(EntityManager em, String actor, String action, AuditOutcome outcome, String modelName,
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

    /** Writes a REJECTED audit row for a refused request; {@link Transactions} commits it before rethrowing the error. */
    private static Transactions.AuditedFailure refused(EntityManager em, String actor, String action, String modelName,
                                                       Integer modelVersion, String key, TrellisException refusal) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("errorCode", refusal.code().name());
        if (key != null) {
            details.put("key", key);
        }
        audit(em, actor, action, AuditOutcome.REJECTED, modelName, modelVersion, key, refusal.getMessage(), details);
        return new Transactions.AuditedFailure(refusal);
    }

    private static boolean violates(Throwable e, String constraint) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConstraintViolationException cv && constraint.equals(cv.getConstraintName())) {
                return true;
            }
            if (t.getMessage() != null && t.getMessage().contains("\"" + constraint + "\"")) {
                return true;
            }
        }
        return false;
    }

    private static TrellisException promotionConflict(EntityManager em, PromotionRow other, String modelName, String environment) {
        return new TrellisException(ErrorCode.PROMOTION_CONFLICT, "Promotion " + other.promotionKey + " of " + modelName + " v"
                + versionNumber(em, other.modelVersionId) + " to " + environment + " is still " + other.status + " (requested by "
                + other.requestedBy + " at " + other.startedAt + "), and a model has one active promotion per environment."
                + " Wait for it to finish, or cancel it, then promote again.");
    }

    private static TrellisException finished(PromotionRow p) {
        return new TrellisException(ErrorCode.INVALID_STATE, "Promotion " + p.promotionKey + " finished as " + p.status + " at "
                + p.finishedAt + ", so it can no longer change; start a new promotion to try again.");
    }

    /** The environments a promotion to the one of {@code targetOrdinal} deploys to, in order. */
    private static String stagesOf(List<EnvironmentRow> environments, int targetOrdinal) {
        return environments.stream().filter(e -> e.ordinal > 0 && e.ordinal <= targetOrdinal).map(e -> e.name)
                .collect(Collectors.joining(", "));
    }

    private static Optional<EnvironmentRow> environment(List<EnvironmentRow> environments, String name) {
        return environments.stream().filter(e -> e.name.equals(name)).findFirst();
    }

    private static Optional<EnvironmentRow> environmentBelow(List<EnvironmentRow> environments, EnvironmentRow env) {
        return environments.stream().filter(e -> e.ordinal < env.ordinal).max(Comparator.comparingInt(e -> e.ordinal));
    }

    private static TrellisException unknownEnvironment(String modelName, String environment, List<EnvironmentRow> environments) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, "Model " + modelName + " has no environment '" + environment
                + "'; its environments are " + environments.stream().map(e -> e.name).collect(Collectors.joining(", "))
                + ". Use one of those, or add it to the spec's environments and apply the spec.");
    }

    private static EnvironmentRow requireEnvironment(EntityManager em, ModelRow model, String environment) {
        List<EnvironmentRow> environments = environmentRows(em, model.id);
        return environment(environments, environment).orElseThrow(() -> unknownEnvironment(model.name, environment, environments));
    }

    /** Every live pointer row of the environment, oldest first. */
    private static List<DeploymentRow> liveRows(EntityManager em, Long environmentId) {
        return em.createQuery("from DeploymentRow d where d.environmentId = :e and d.role = :r order by d.validFrom, d.id",
                        DeploymentRow.class)
                .setParameter("e", environmentId).setParameter("r", DeploymentRole.LIVE.dbValue()).getResultList();
    }

    private static boolean wasLive(EntityManager em, Long modelVersionId, Long environmentId) {
        return !em.createQuery("select d.id from DeploymentRow d where d.environmentId = :e and d.modelVersionId = :v and d.role = :r",
                        Long.class)
                .setParameter("e", environmentId).setParameter("v", modelVersionId).setParameter("r", DeploymentRole.LIVE.dbValue())
                .setMaxResults(1).getResultList().isEmpty();
    }

    private static int versionNumber(EntityManager em, Long modelVersionId) {
        return em.find(ModelVersionRow.class, modelVersionId).version;
    }

    /**
     * INVALID_STATE when retention purged the version's artifact (V11 {@code purge_marks}): deploying it would only fail
     * later, at the artifact fetch, so the pointer move or promotion is refused up front, naming the retention run.
     */
    private static Optional<TrellisException> purgedArtifact(EntityManager em, String modelName, ModelVersionRow v, String what) {
        @SuppressWarnings("unchecked")
        List<Object[]> marks = em.createNativeQuery("select purged_at, retention_run, reason from purge_marks"
                        + " where subject_kind = 'model_version' and subject_id = ?1")
                .setParameter(1, v.id).getResultList();
        if (marks.isEmpty()) {
            return Optional.empty();
        }
        Object[] mark = marks.get(0);
        Object at = mark[0] instanceof java.sql.Timestamp t ? t.toInstant() : mark[0];
        return Optional.of(new TrellisException(ErrorCode.INVALID_STATE, "model " + modelName + " v" + v.version
                + " was purged by retention run " + mark[1] + " at " + at + " (reason: " + mark[2] + "); its artifact is deleted, so it"
                + " cannot be " + what + ". Its record and lineage stay; deploy another version, or retrain the model to get a new one."));
    }

    /** Whether the pointer was opened by {@link #rollback} (its audit row names it). */
    private static boolean isRollback(EntityManager em, Long deploymentId) {
        Number count = (Number) em.createNativeQuery("select count(*) from audit_log where action = 'environment.rolled_back'"
                        + " and outcome = 'SUCCESS' and details ->> 'deploymentId' = ?1")
                .setParameter(1, String.valueOf(deploymentId)).getSingleResult();
        return count.longValue() > 0;
    }

    private static Optional<PrincipalRow> principalByName(EntityManager em, String name, LockModeType lock) {
        return em.createQuery("from PrincipalRow p where p.name = :n", PrincipalRow.class)
                .setParameter("n", name).setLockMode(lock).getResultStream().findFirst();
    }

    private static List<String> roleNames(Set<PrincipalRole> roles) {
        return roles.stream().sorted().map(PrincipalRole::dbValue).toList();
    }

    private static Optional<PromotionRow> promotionByKey(EntityManager em, String promotionKey, LockModeType lock) {
        return em.createQuery("from PromotionRow p where p.promotionKey = :k", PromotionRow.class)
                .setParameter("k", promotionKey).setLockMode(lock).getResultStream().findFirst();
    }

    private static Optional<PromotionRow> activePromotion(EntityManager em, Long modelId, Long environmentId) {
        return em.createQuery("from PromotionRow p where p.modelId = :m and p.targetEnvironmentId = :e and p.status in :active",
                        PromotionRow.class)
                .setParameter("m", modelId).setParameter("e", environmentId)
                .setParameter("active", List.of(PromotionStatus.RUNNING, PromotionStatus.AWAITING_APPROVAL))
                .getResultStream().findFirst();
    }

    /** The promotion, locked for update; an unknown key is refused with a REJECTED audit row. */
    private static PromotionRow requirePromotion(EntityManager em, String promotionKey, String actor, String action) {
        return promotionByKey(em, promotionKey, LockModeType.PESSIMISTIC_WRITE).orElseThrow(() ->
                refused(em, actor, action, null, null, promotionKey, new TrellisException(ErrorCode.INVALID_REQUEST,
                        "No promotion '" + promotionKey + "' is recorded; open it with openPromotion first, or check the key.")));
    }

    private static PromotionRecord promotionRecord(EntityManager em, PromotionRow p) {
        return p.toRecord(modelName(em, p.modelId), versionNumber(em, p.modelVersionId),
                em.find(EnvironmentRow.class, p.targetEnvironmentId).name);
    }

    /** The map as it reads back from a JSONB column, so that a repeated report compares equal to the stored one. */
    private static Map<String, Object> normalizedJson(Map<String, Object> value) {
        try {
            return JSON.readValue(JSON.writeValueAsString(value), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (JsonProcessingException e) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The stage report cannot be stored as JSON: "
                    + e.getOriginalMessage() + "; pass only maps, lists, strings, numbers and booleans.", e);
        }
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

    static ModelRow requireModel(EntityManager em, String modelName) {
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
    static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
