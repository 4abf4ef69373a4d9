package io.trellis.workers.api;

import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.workflow.v1.PendingActivityInfo;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowNotFoundException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.client.WorkflowUpdateException;
import io.temporal.common.converter.DataConverter;
import io.temporal.failure.ApplicationFailure;
import io.trellis.metadata.ApiAccess;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.DeploymentRecord;
import io.trellis.metadata.DeploymentRole;
import io.trellis.metadata.ModelRecord;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.PromotionRecord;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RegistryQueries;
import io.trellis.metadata.RunRecord;
import io.trellis.metadata.RunStatus;
import io.trellis.metadata.UsageTotals;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.RetrainOverrides;
import io.trellis.spec.TrellisException;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.RetrainLauncher;
import io.trellis.workers.RunLabels;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.schedules.Schedules;
import io.trellis.workflows.schedule.OverlapPolicy;
import io.trellis.workflows.schedule.ScheduleDefinition;
import io.trellis.workflows.schedule.ScheduleKind;
import io.trellis.workflows.TaskQueues;
import io.trellis.workflows.activities.SparkStepProgress;
import io.trellis.workflows.promotion.ApprovalDecision;
import io.trellis.workflows.promotion.RollbackRequest;
import io.trellis.workflows.promotion.RollbackResult;
import io.trellis.workflows.promotion.RollbackWorkflow;
import io.trellis.workflows.promotion.Verdict;
import io.trellis.workflows.retrain.RetrainProgress;
import io.trellis.workflows.retrain.RetrainRequest;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoints: a thin layer over the same services the CLI uses ({@link Registry}, {@link RegistryQueries},
 * {@link RetrainLauncher}, {@link PromotionRunner}, the rollback workflow). Lists come from PostgreSQL, so they read
 * the same on the embedded test server and a real cluster. The identity written to the audit trail is always the
 * caller's ({@link ApiRequest#identity()}), never a field of the body.
 */
public final class TrellisApi {
    public static final String PREFIX = "/api/v1";
    /** How long an {@code Idempotency-Key} names the run it started. */
    public static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);
    private static final Logger log = LoggerFactory.getLogger(TrellisApi.class);
    private static final int DEFAULT_PAGE = 100;

    private final TrellisRuntime runtime;
    private final ApiMetrics metrics;
    private final Supplier<byte[]> openApi;

    public TrellisApi(TrellisRuntime runtime, ApiMetrics metrics) {
        this.runtime = runtime;
        this.metrics = metrics;
        this.openApi = OpenApiDocument::json;
    }

    /** Request bodies. Records: unknown fields are refused, and none of them carries an identity. */
    /**
     * A retrain trigger: why, and optionally a data window ({@code from} inclusive, {@code to} exclusive, on the model's
     * time column; ISO-8601 instants or dates) and hyperparameters replacing the spec's for this run.
     */
    public record RetrainBody(String reason, String from, String to, Map<String, Double> hyperparameters) {}

    public record DecisionBody(String reason) {}

    public record RollbackBody(Integer toVersion, String reason) {}

    /** A schedule to create ({@code model} and {@code kind} required) or the new settings of one ({@code PUT}). */
    public record ScheduleBody(String model, ScheduleKind kind, String environment, String cron, String timeZone, OverlapPolicy overlap) {}

    public record NoteBody(String note) {}

    /** A legal hold to place: the Delta table (lake-relative name or full path), its version, and why. */
    public record HoldBody(String table, Long version, String reason) {}

    public record LiftBody(String reason) {}

    /** A retention run: {@code mode} is {@code dry-run} or {@code delete} (required: no default that deletes). */
    public record RetentionBody(String mode, String reason) {}

    public List<Route> routes() {
        Set<String> none = Set.of();
        List<Route> routes = new java.util.ArrayList<>(List.of(
                new Route("GET", "/healthz", Access.PUBLIC, "health", none, r -> ApiResponse.json(200, Map.of("status", "UP"))),
                new Route("GET", "/readyz", Access.PUBLIC, "readiness", none, r -> readiness()),
                new Route("GET", "/metrics", Access.READ, "metrics", none, r -> metrics()),
                new Route("GET", "/openapi.json", Access.READ, "openapi", none,
                        r -> new ApiResponse(200, ApiResponse.JSON, Map.of(), openApi.get())),
                new Route("GET", PREFIX + "/models", Access.READ, "listModels", none,
                        r -> ApiResponse.json(200, Map.of("items", runtime.queries().models()))),
                new Route("GET", PREFIX + "/models/{model}", Access.READ, "getModel", none, this::model),
                new Route("GET", PREFIX + "/models/{model}/versions", Access.READ, "listVersions", Set.of("limit", "cursor"),
                        this::versions),
                new Route("GET", PREFIX + "/models/{model}/versions/{version}", Access.READ, "getVersion", none, this::version),
                new Route("GET", PREFIX + "/models/{model}/versions/{version}/lineage", Access.READ, "getLineage", none,
                        r -> ApiResponse.json(200, registry().lineage(r.path("model"), r.pathInt("version")))),
                new Route("GET", PREFIX + "/models/{model}/environments", Access.READ, "listEnvironments", none, this::environments),
                new Route("GET", PREFIX + "/models/{model}/promotions", Access.READ, "listPromotions", none,
                        r -> ApiResponse.json(200, Map.of("items", registry().promotions(r.path("model"))))),
                new Route("GET", PREFIX + "/models/{model}/monitoring/series", Access.READ, "getMonitoringSeries",
                        Set.of("feature", "statistic", "environment", "limit"), this::monitoringSeries),
                new Route("POST", PREFIX + "/models/{model}/retrains", Access.TRIGGER, "triggerRetrain", none, this::triggerRetrain),
                new Route("GET", PREFIX + "/runs", Access.READ, "listRuns", Set.of("model", "status", "triggeredBy", "limit", "cursor"),
                        this::runs),
                new Route("GET", PREFIX + "/runs/{runKey}", Access.READ, "getRun", none, this::run),
                new Route("POST", PREFIX + "/promotions/{promotionKey}/approve", Access.DECIDE, "approvePromotion", none,
                        r -> decide(r, Verdict.APPROVE)),
                new Route("POST", PREFIX + "/promotions/{promotionKey}/reject", Access.DECIDE, "rejectPromotion", none,
                        r -> decide(r, Verdict.REJECT)),
                new Route("POST", PREFIX + "/models/{model}/environments/{environment}/rollback", Access.DECIDE, "rollbackEnvironment",
                        none, this::rollback),
                new Route("GET", PREFIX + "/schedules", Access.READ, "listSchedules", none,
                        r -> ApiResponse.json(200, Map.of("items", runtime.schedules().list()))),
                new Route("POST", PREFIX + "/schedules", Access.TRIGGER, "createSchedule", none, this::createSchedule),
                new Route("GET", PREFIX + "/schedules/{scheduleId}", Access.READ, "getSchedule", none,
                        r -> ApiResponse.json(200, schedule(r.path("scheduleId")))),
                new Route("PUT", PREFIX + "/schedules/{scheduleId}", Access.TRIGGER, "updateSchedule", none, this::updateSchedule),
                new Route("DELETE", PREFIX + "/schedules/{scheduleId}", Access.TRIGGER, "deleteSchedule", none, r -> {
                    schedule(r.path("scheduleId"));
                    runtime.schedules().delete(r.path("scheduleId"), r.identity().name());
                    return new ApiResponse(204, ApiResponse.JSON, Map.of(), new byte[0]);
                }),
                new Route("POST", PREFIX + "/schedules/{scheduleId}/pause", Access.TRIGGER, "pauseSchedule", none, r -> {
                    schedule(r.path("scheduleId"));
                    runtime.schedules().pause(r.path("scheduleId"), r.bodyOrEmpty(NoteBody.class, new NoteBody(null)).note(), r.identity().name());
                    return ApiResponse.json(202, Map.of("scheduleId", r.path("scheduleId"), "requested", "pause"));
                }),
                new Route("POST", PREFIX + "/schedules/{scheduleId}/resume", Access.TRIGGER, "resumeSchedule", none, r -> {
                    schedule(r.path("scheduleId"));
                    runtime.schedules().resume(r.path("scheduleId"), r.bodyOrEmpty(NoteBody.class, new NoteBody(null)).note(), r.identity().name());
                    return ApiResponse.json(202, Map.of("scheduleId", r.path("scheduleId"), "requested", "resume"));
                }),
                new Route("POST", PREFIX + "/schedules/{scheduleId}/trigger", Access.TRIGGER, "triggerSchedule", none, r -> {
                    schedule(r.path("scheduleId"));
                    r.bodyOrEmpty(NoteBody.class, new NoteBody(null));
                    runtime.schedules().triggerNow(r.path("scheduleId"), r.identity().name());
                    return ApiResponse.json(202, Map.of("scheduleId", r.path("scheduleId"), "requested", "trigger"));
                }),
                new Route("GET", PREFIX + "/costs", Access.READ, "queryCosts", Set.of("model", "by", "limit"), this::costs),
                new Route("GET", PREFIX + "/runs/{runKey}/costs", Access.READ, "getRunCosts", none,
                        r -> ApiResponse.json(200, runtime.costs().run(r.path("runKey")))),
                new Route("GET", PREFIX + "/holds", Access.READ, "listHolds", none,
                        r -> ApiResponse.json(200, Map.of("items", runtime.metadata().retention().holds()))),
                new Route("POST", PREFIX + "/holds", Access.AUDIT, "setHold", none, this::setHold),
                new Route("POST", PREFIX + "/holds/{holdId}/lift", Access.AUDIT, "liftHold", none, this::liftHold),
                new Route("POST", PREFIX + "/retention/runs", Access.ADMINISTER, "startRetention", none, this::startRetention),
                new Route("GET", PREFIX + "/retention/runs/{retentionId}", Access.AUDIT, "getRetention", none, this::retention),
                new Route("POST", PREFIX + "/runs/{runKey}/budget/approve", Access.DECIDE, "approveBudget", none,
                        r -> decideBudget(r, Verdict.APPROVE)),
                new Route("POST", PREFIX + "/runs/{runKey}/budget/reject", Access.DECIDE, "rejectBudget", none,
                        r -> decideBudget(r, Verdict.REJECT)),
                new Route("GET", PREFIX + "/audit", Access.AUDIT, "queryAudit",
                        Set.of("model", "version", "actor", "action", "runKey", "outcome", "from", "to", "cursor", "limit", "format"),
                        this::audit)));
        // Temporal's codec server protocol for the Temporal UI and CLI (decrypting the payloads the workers encrypt).
        routes.addAll(new CodecEndpoints(() -> runtime.config().payloadEncryption()).routes());
        return List.copyOf(routes);
    }

    private Registry registry() {
        return runtime.registry();
    }

    // ---------------------------------------------------------------- models

    private ApiResponse model(ApiRequest r) {
        String name = r.path("model");
        List<String> environments = registry().environments(name);
        ModelRecord model = registry().findModel(name).orElseThrow();
        RegistryQueries.ModelSummary summary = runtime.queries().models().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", model.name());
        body.put("specSha256", model.specSha256());
        body.put("specYaml", model.specYaml());
        body.put("createdAt", summary.createdAt());
        body.put("updatedAt", summary.updatedAt());
        body.put("latestVersion", summary.latestVersion());
        body.put("versionCount", summary.versionCount());
        body.put("environments", environments);
        return ApiResponse.json(200, body);
    }

    /** A page of a model's versions in version order; the cursor is the last version of the page (keyset). */
    private ApiResponse versions(ApiRequest r) {
        RegistryQueries.Page<io.trellis.metadata.ModelVersionRecord> page = runtime.queries().versions(r.path("model"),
                r.queryLong("cursor", 0, Integer.MAX_VALUE).map(Long::intValue).orElse(null),
                r.queryLong("limit", 1, RegistryQueries.MAX_PAGE_SIZE).orElse((long) DEFAULT_PAGE).intValue());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("items", page.items());
        body.put("nextCursor", page.nextCursor() == null ? null : String.valueOf(page.nextCursor()));
        return ApiResponse.json(200, body);
    }

    private ApiResponse version(ApiRequest r) {
        String model = r.path("model");
        int version = r.pathInt("version");
        return registry().version(model, version).map(v -> ApiResponse.json(200, v))
                .orElseThrow(() -> new TrellisException(ErrorCode.UNKNOWN_MODEL_VERSION, "Model " + model + " has no version " + version
                        + "; list its versions at GET " + PREFIX + "/models/" + model + "/versions."));
    }

    /** Each environment with what is live and what is the candidate now, and its full pointer history. */
    private ApiResponse environments(ApiRequest r) {
        String model = r.path("model");
        List<String> names = registry().environments(model);
        List<DeploymentRecord> all = registry().deployments(model);
        List<Map<String, Object>> items = new ArrayList<>();
        for (String env : names) {
            List<DeploymentRecord> rows = all.stream().filter(d -> d.environment().equals(env)).toList();
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", env);
            e.put("live", rows.stream().filter(d -> d.isOpen() && d.role() == DeploymentRole.LIVE).findFirst().map(DeploymentRecord::version).orElse(null));
            e.put("candidate", rows.stream().filter(d -> d.isOpen() && d.role() == DeploymentRole.CANDIDATE).findFirst()
                    .map(DeploymentRecord::version).orElse(null));
            e.put("history", rows);
            items.add(e);
        }
        return ApiResponse.json(200, Map.of("model", model, "items", items));
    }

    /** One monitoring statistic's time series (oldest first), as {@code trellis monitor series} prints it. */
    private ApiResponse monitoringSeries(ApiRequest r) {
        String model = r.path("model");
        String statistic = r.queryText("statistic").orElseThrow(() -> ApiProblem.badRequest(
                "Query parameter 'statistic' is required: one of " + String.join(", ", MonitoringStore.STATISTICS) + "."));
        String feature = MonitoringStore.seriesFeature(r.queryText("feature").orElse(null), statistic);
        String environment = r.queryText("environment").orElse(null);
        int limit = r.queryLong("limit", 1, RegistryQueries.MAX_PAGE_SIZE).orElse(100L).intValue();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("feature", feature);
        body.put("statistic", statistic);
        body.put("environment", environment);
        body.put("items", runtime.monitoring().series(model, environment, feature, statistic, limit));
        return ApiResponse.json(200, body);
    }

    // ---------------------------------------------------------------- runs

    private ApiResponse triggerRetrain(ApiRequest r) {
        String model = r.path("model");
        RetrainBody body = r.bodyOrEmpty(RetrainBody.class, new RetrainBody(null, null, null, null));
        if (body.reason() != null && body.reason().length() > 1000) {
            throw ApiProblem.badRequest("Field 'reason' is " + body.reason().length() + " characters long; keep it to 1000.");
        }
        Optional<String> key = r.header("Idempotency-Key");
        key.ifPresent(TrellisApi::checkIdempotencyKey);
        registry().environments(model); // UNKNOWN_MODEL (404) before anything is claimed or started
        RetrainOverrides overrides = overrides(model, body);
        String caller = r.identity().name();
        RetrainLauncher launcher = new RetrainLauncher(runtime.client(), Clock.systemUTC());
        String runKey = launcher.newRunKey(model);
        boolean replayed = false;
        if (key.isPresent()) {
            ApiAccess.IdempotencyClaim claim = runtime.apiAccess().claimIdempotencyKey(caller, key.get(), "retrain:" + model,
                    ApiAccess.sha256Hex(new String(Json.write(canonicalTrigger(body, overrides)), StandardCharsets.UTF_8)), runKey,
                    IDEMPOTENCY_WINDOW);
            runKey = claim.resourceKey();
            replayed = !claim.created();
        }
        try {
            launcher.start(new RetrainRequest(model, caller, body.reason(), overrides), runKey);
        } catch (WorkflowExecutionAlreadyStarted alreadyStarted) {
            // Every request holding the key starts the key's run, so that a claim whose request died before starting
            // it is completed by the retry; Temporal lets exactly one start win. The claimant still answers 202.
        }
        metrics.recordTrigger(replayed ? "replayed" : "started");
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("runKey", runKey);
        answer.put("model", model);
        answer.put("triggeredBy", caller);
        answer.put("reason", body.reason());
        answer.put("overrides", overrides == null ? null : overrides.describe());
        answer.put("status", registry().run(runKey).map(run -> run.status().name()).orElse("STARTING"));
        answer.put("idempotencyKey", key.orElse(null));
        answer.put("replayed", replayed);
        answer.put("href", PREFIX + "/runs/" + encode(runKey));
        ApiResponse response = ApiResponse.json(replayed ? 200 : 202, answer).withHeader("Location", PREFIX + "/runs/" + encode(runKey));
        return replayed ? response.withHeader("Idempotent-Replayed", "true") : response;
    }

    /**
     * The body's overrides checked against the model's current spec (the run re-checks them against the spec it pins):
     * null when there are none; a 400 naming every problem otherwise, before any key is claimed or run started.
     */
    private RetrainOverrides overrides(String model, RetrainBody body) {
        if (body.from() == null && body.to() == null && (body.hyperparameters() == null || body.hyperparameters().isEmpty())) {
            return null;
        }
        if (body.hyperparameters() != null) {
            body.hyperparameters().forEach((name, value) -> {
                if (value == null) {
                    throw ApiProblem.badRequest("Field 'hyperparameters." + ApiRequest.clip(name) + "' must be a number, not null.");
                }
            });
        }
        RetrainOverrides overrides = RetrainOverrides.of(body.from(), body.to(), body.hyperparameters());
        ModelRecord record = registry().findModel(model).orElseThrow();
        overrides.requireFits(io.trellis.spec.ModelSpecLoader.parse(record.specYaml(), "registry:" + model));
        return overrides;
    }

    /**
     * What an Idempotency-Key's request hash covers: the reason and the overrides in canonical form (instants in UTC,
     * hyperparameters sorted), so the same request written differently replays, and any other body is refused (422).
     * Without overrides it is exactly the earlier {@code {"reason": ...}}, so keys claimed before overrides existed
     * still replay.
     */
    private static Map<String, Object> canonicalTrigger(RetrainBody body, RetrainOverrides overrides) {
        Map<String, Object> canonical = new LinkedHashMap<>();
        canonical.put("reason", body.reason());
        if (overrides != null) {
            canonical.put("overrides", overrides.describe());
        }
        return canonical;
    }

    private static void checkIdempotencyKey(String key) {
        if (key.isBlank() || key.length() > 255 || !key.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw ApiProblem.badRequest("The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID is a good choice).");
        }
    }

    private ApiResponse runs(ApiRequest r) {
        RegistryQueries.Page<RunRecord> page = runtime.queries().runs(new RegistryQueries.RunFilter(
                r.queryText("model").orElse(null),
                r.queryEnum("status", RunStatus.class).orElse(null),
                r.queryText("triggeredBy").orElse(null),
                r.queryLong("cursor", 1, Long.MAX_VALUE).orElse(null),
                r.queryLong("limit", 1, RegistryQueries.MAX_PAGE_SIZE).orElse((long) DEFAULT_PAGE).intValue()));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("items", page.items());
        body.put("nextCursor", page.nextCursor() == null ? null : String.valueOf(page.nextCursor()));
        return ApiResponse.json(200, body);
    }

    /** A run from PostgreSQL, with its live progress from Temporal while it runs, its validation and its version's gates. */
    private ApiResponse run(ApiRequest r) {
        String runKey = r.path("runKey");
        RunRecord run = registry().run(runKey).orElse(null);
        Map<String, Object> body = new LinkedHashMap<>();
        if (run == null) {
            // Started but its first activity has not recorded it yet, or never started.
            Map<String, Object> progress = progress(runKey);
            if (progress == null) {
                throw ApiProblem.notFound("unknown-run", "No run '" + ApiRequest.clip(runKey) + "' exists; list runs at GET " + PREFIX + "/runs.");
            }
            body.put("runKey", runKey);
            body.put("status", "STARTING");
            body.put("progress", progress);
            return ApiResponse.json(200, body);
        }
        body.put("run", run);
        body.put("progress", run.status() == RunStatus.RUNNING ? progress(runKey) : null);
        body.put("validation", registry().validation(runKey).orElse(null));
        body.put("version", runtime.queries().versionOfRun(runKey).orElse(null));
        return ApiResponse.json(200, body);
    }

    /** The workflow's progress query plus the pending Spark activity's heartbeat (jobs, stages, tasks); null if no such workflow. */
    private Map<String, Object> progress(String runKey) {
        var client = runtime.client();
        try {
            WorkflowStub stub = client.newUntypedWorkflowStub(runKey);
            RetrainProgress p = CompletableFuture.supplyAsync(() -> stub.query("progress", RetrainProgress.class))
                    .get(5, TimeUnit.SECONDS);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("step", p.step() == null ? null : p.step().name());
            out.put("stepLabel", p.step() == null ? null : p.step().label());
            out.put("stepNumber", p.stepNumber());
            out.put("totalSteps", p.totalSteps());
            out.put("detail", p.detail());
            DescribeWorkflowExecutionResponse d = client.getWorkflowServiceStubs().blockingStub()
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .describeWorkflowExecution(DescribeWorkflowExecutionRequest.newBuilder()
                            .setNamespace(client.getOptions().getNamespace())
                            .setExecution(WorkflowExecution.newBuilder().setWorkflowId(runKey)).build());
            List<Map<String, Object>> activities = new ArrayList<>();
            for (PendingActivityInfo a : d.getPendingActivitiesList()) {
                Map<String, Object> activity = new LinkedHashMap<>();
                activity.put("type", a.getActivityType().getName());
                activity.put("attempt", a.getAttempt());
                activity.put("lastFailure", a.hasLastFailure() ? a.getLastFailure().getMessage() : null);
                if (a.hasHeartbeatDetails()) {
                    SparkStepProgress sp = DataConverter.getDefaultInstance().fromPayloads(0, Optional.of(a.getHeartbeatDetails()),
                            SparkStepProgress.class, SparkStepProgress.class);
                    activity.put("spark", sp);
                }
                activities.add(activity);
            }
            out.put("activities", activities);
            return out;
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof WorkflowNotFoundException || e.getCause() instanceof io.temporal.client.WorkflowQueryException) {
                return null;
            }
            log.warn("progress of {} unavailable: {}", runKey, e.getCause().toString());
            return Map.of("detail", "progress unavailable right now");
        } catch (java.util.concurrent.TimeoutException e) {
            return Map.of("detail", "progress unavailable right now");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (io.grpc.StatusRuntimeException e) {
            return null;
        }
    }

    // ---------------------------------------------------------------- promotions

    private ApiResponse decide(ApiRequest r, Verdict verdict) {
        String key = r.path("promotionKey");
        DecisionBody body = verdict == Verdict.REJECT ? r.body(DecisionBody.class) : r.bodyOrEmpty(DecisionBody.class, new DecisionBody(null));
        if (verdict == Verdict.REJECT && (body.reason() == null || body.reason().isBlank())) {
            throw ApiProblem.badRequest("Rejecting a promotion needs a non-blank 'reason', so that the requester knows what to fix.");
        }
        PromotionRecord promotion = registry().promotion(key).orElseThrow(() -> ApiProblem.notFound("unknown-promotion",
                "No promotion '" + ApiRequest.clip(key) + "' exists; list a model's promotions at GET " + PREFIX + "/models/{model}/promotions."));
        String approver = r.identity().name();
        PromotionRunner runner = new PromotionRunner(runtime, new PrintStream(OutputStream.nullOutputStream()));
        try {
            runner.decide(key, new ApprovalDecision(approver, verdict, body.reason()));
        } catch (WorkflowUpdateException e) {
            throw fromWorkflowFailure(e);
        } catch (WorkflowNotFoundException e) {
            // No workflow is waiting any more (finished or expired): the registry refuses and audits.
            registry().decide(key, approver, verdict == Verdict.APPROVE ? io.trellis.metadata.Decision.APPROVED : io.trellis.metadata.Decision.REJECTED,
                    body.reason());
            throw new TrellisException(ErrorCode.INVALID_STATE, "Promotion " + key + " is not awaiting approval (it is " + promotion.status() + ").");
        }
        return ApiResponse.json(200, registry().promotion(key).orElseThrow());
    }

    private ApiResponse rollback(ApiRequest r) {
        String model = r.path("model");
        String environment = r.path("environment");
        RollbackBody body = r.body(RollbackBody.class);
        if (body.reason() == null || body.reason().isBlank()) {
            throw ApiProblem.badRequest("A rollback needs a non-blank 'reason' (what is wrong with the live version).");
        }
        if (body.toVersion() != null && body.toVersion() < 1) {
            throw ApiProblem.badRequest("Field 'toVersion' must be a positive version number, was " + body.toVersion() + ".");
        }
        List<String> environments = registry().environments(model);
        if (!environments.contains(environment)) {
            throw ApiProblem.notFound("unknown-environment", "Model " + model + " has no environment '" + ApiRequest.clip(environment)
                    + "'; its environments are " + String.join(", ", environments) + ".");
        }
        String id = RollbackWorkflow.workflowId(model, environment, RunLabels.now());
        RollbackWorkflow wf = runtime.client().newWorkflowStub(RollbackWorkflow.class, WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.ORCHESTRATION).setWorkflowId(id).build());
        RollbackResult result;
        try {
            result = wf.run(new RollbackRequest(model, environment, body.toVersion(), r.identity().name(), body.reason()));
        } catch (WorkflowFailedException e) {
            throw fromWorkflowFailure(e);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("model", result.modelName());
        answer.put("environment", result.environment());
        answer.put("restoredVersion", result.restoredVersion());
        answer.put("replacedVersion", result.replacedVersion());
        answer.put("rollbackKey", id);
        answer.put("live", registry().live(model, environment).orElse(null));
        return ApiResponse.json(200, answer);
    }

    /**
     * The outermost application failure typed with an {@link ErrorCode} (the workflow's own, or the activity's
     * inside an update failure), as a user error; any other failure stays internal (500, logged).
     */
    private static RuntimeException fromWorkflowFailure(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ApplicationFailure af) {
                Optional<ErrorCode> code = Arrays.stream(ErrorCode.values()).filter(c -> c.name().equals(af.getType())).findFirst();
                if (code.isPresent()) {
                    return new TrellisException(code.get(), af.getOriginalMessage());
                }
            }
        }
        return e;
    }

    // ---------------------------------------------------------------- retention, legal holds, budget decisions

    private ApiResponse setHold(ApiRequest r) {
        HoldBody b = r.body(HoldBody.class);
        if (b.table() == null || b.table().isBlank() || b.version() == null || b.version() < 0 || b.reason() == null || b.reason().isBlank()) {
            throw ApiProblem.badRequest("A legal hold needs 'table' (lake-relative name or full path), 'version' (a Delta version, >= 0)"
                    + " and a non-blank 'reason'.");
        }
        return ApiResponse.json(201, runtime.metadata().retention().setHold(runtime.lake().resolve(b.table()), b.version(), b.reason(),
                r.identity().name()));
    }

    private ApiResponse liftHold(ApiRequest r) {
        long id;
        try {
            id = Long.parseLong(r.path("holdId"));
        } catch (NumberFormatException e) {
            throw ApiProblem.badRequest("'" + ApiRequest.clip(r.path("holdId")) + "' is not a hold id (a number; GET " + PREFIX + "/holds).");
        }
        LiftBody b = r.body(LiftBody.class);
        if (b.reason() == null || b.reason().isBlank()) {
            throw ApiProblem.badRequest("Lifting a legal hold needs a non-blank 'reason'.");
        }
        return ApiResponse.json(200, runtime.metadata().retention().liftHold(id, b.reason(), r.identity().name()));
    }

    private ApiResponse startRetention(ApiRequest r) {
        RetentionBody b = r.body(RetentionBody.class);
        io.trellis.workflows.retention.RetentionMode mode;
        if ("dry-run".equals(b.mode())) {
            mode = io.trellis.workflows.retention.RetentionMode.DRY_RUN;
        } else if ("delete".equals(b.mode())) {
            mode = io.trellis.workflows.retention.RetentionMode.DELETE;
        } else {
            throw ApiProblem.badRequest("A retention run needs 'mode': 'dry-run' (report only) or 'delete'.");
        }
        String id = new io.trellis.workers.RetentionRunner(runtime, java.time.Clock.systemUTC())
                .start(new io.trellis.workflows.retention.RetentionRequest(mode, r.identity().name(), b.reason()));
        return ApiResponse.json(202, Map.of("retentionId", id, "status", "RUNNING", "location", PREFIX + "/retention/runs/" + encode(id)));
    }

    private ApiResponse retention(ApiRequest r) {
        String id = r.path("retentionId");
        if (!id.startsWith("retention/")) {
            throw ApiProblem.notFound("unknown-retention-run", "No retention run '" + ApiRequest.clip(id) + "' (ids start with retention/).");
        }
        try {
            Optional<io.trellis.workflows.retention.RetentionReport> report =
                    new io.trellis.workers.RetentionRunner(runtime, java.time.Clock.systemUTC()).report(id);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("retentionId", id);
            body.put("status", report.isPresent() ? "COMPLETED" : "RUNNING");
            report.ifPresent(rep -> body.put("report", rep));
            return ApiResponse.json(200, body);
        } catch (TrellisException e) {
            if (e.code() == ErrorCode.INVALID_REQUEST) {
                throw ApiProblem.notFound("unknown-retention-run", e.getMessage());
            }
            throw e;
        }
    }

    private ApiResponse decideBudget(ApiRequest r, Verdict verdict) {
        DecisionBody body = verdict == Verdict.REJECT ? r.body(DecisionBody.class) : r.bodyOrEmpty(DecisionBody.class, new DecisionBody(null));
        String runKey = r.path("runKey");
        if (registry().run(runKey).isEmpty()) {
            throw ApiProblem.notFound("unknown-run", "No run '" + ApiRequest.clip(runKey) + "' exists; list runs at GET " + PREFIX + "/runs.");
        }
        var receipt = new io.trellis.workers.BudgetDecisions(runtime).decide(runKey,
                new ApprovalDecision(r.identity().name(), verdict, body.reason()));
        return ApiResponse.json(200, receipt);
    }

    // ---------------------------------------------------------------- schedules

    private Schedules.ScheduleView schedule(String scheduleId) {
        return runtime.schedules().find(scheduleId).orElseThrow(() -> ApiProblem.notFound("unknown-schedule", "No schedule '"
                + ApiRequest.clip(scheduleId) + "' exists; list them at GET " + PREFIX + "/schedules."));
    }

    private ApiResponse createSchedule(ApiRequest r) {
        ScheduleBody b = r.body(ScheduleBody.class);
        if (b.model() == null || b.kind() == null || b.cron() == null) {
            throw ApiProblem.badRequest("A schedule needs 'model', 'kind' (RETRAIN or SCORE) and 'cron'; 'environment' for SCORE,"
                    + " optional 'timeZone' (default UTC) and 'overlap' (SKIP or BUFFER_ONE, default SKIP).");
        }
        ScheduleDefinition d = new ScheduleDefinition(ScheduleDefinition.scheduleId(b.kind(), b.model(), b.environment()), b.kind(), b.model(),
                b.environment(), b.cron(), b.timeZone() == null ? "UTC" : b.timeZone(), b.overlap() == null ? OverlapPolicy.SKIP : b.overlap());
        Schedules.ScheduleView created = runtime.schedules().create(d, r.identity().name());
        return ApiResponse.json(201, created).withHeader("Location", PREFIX + "/schedules/" + encode(d.scheduleId()));
    }

    private ApiResponse updateSchedule(ApiRequest r) {
        Schedules.ScheduleView current = schedule(r.path("scheduleId"));
        ScheduleBody b = r.body(ScheduleBody.class);
        ScheduleDefinition c = current.definition();
        if ((b.model() != null && !b.model().equals(c.modelName())) || (b.kind() != null && b.kind() != c.kind())
                || (b.environment() != null && !b.environment().equals(c.environment()))) {
            throw ApiProblem.badRequest("A schedule's model, kind and environment cannot change; delete it and create another.");
        }
        ScheduleDefinition d = new ScheduleDefinition(c.scheduleId(), c.kind(), c.modelName(), c.environment(),
                b.cron() == null ? c.cron() : b.cron(), b.timeZone() == null ? c.timeZone() : b.timeZone(),
                b.overlap() == null ? c.overlap() : b.overlap());
        return ApiResponse.json(200, runtime.schedules().update(d, r.identity().name()));
    }

    // ---------------------------------------------------------------- audit

    private ApiResponse audit(ApiRequest r) {
        String format = r.queryText("format").orElseGet(() -> r.header("Accept").filter(a -> a.contains("text/csv")).map(a -> "csv").orElse("json"));
        if (!format.equals("json") && !format.equals("csv")) {
            throw ApiProblem.badRequest("Query parameter 'format' must be json or csv, was '" + ApiRequest.clip(format) + "'.");
        }
        RegistryQueries.Page<AuditEntry> page = runtime.queries().audit(new RegistryQueries.AuditFilter(
                r.queryText("model").orElse(null),
                r.queryLong("version", 1, Integer.MAX_VALUE).map(Long::intValue).orElse(null),
                r.queryText("actor").orElse(null),
                r.queryText("action").orElse(null),
                r.queryText("runKey").orElse(null),
                r.queryEnum("outcome", AuditOutcome.class).orElse(null),
                r.queryInstant("from").orElse(null),
                r.queryInstant("to").orElse(null),
                r.queryLong("cursor", 0, Long.MAX_VALUE).orElse(null),
                r.queryLong("limit", 1, RegistryQueries.MAX_PAGE_SIZE).orElse((long) DEFAULT_PAGE).intValue()));
        String next = page.nextCursor() == null ? null : String.valueOf(page.nextCursor());
        if (format.equals("csv")) {
            ApiResponse csv = ApiResponse.text(200, "text/csv; charset=utf-8", AuditCsv.write(page.items()));
            return next == null ? csv : csv.withHeader("X-Next-Cursor", next);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("items", page.items());
        body.put("nextCursor", next);
        return ApiResponse.json(200, body);
    }

    // ---------------------------------------------------------------- operations

    private ApiResponse readiness() {
        Map<String, Object> checks = new LinkedHashMap<>();
        boolean ready = true;
        ready &= check(checks, "postgres", () -> runtime.queries().ping());
        ready &= check(checks, "temporal", () -> runtime.client().getWorkflowServiceStubs().blockingStub()
                .withDeadlineAfter(3, TimeUnit.SECONDS)
                .getSystemInfo(io.temporal.api.workflowservice.v1.GetSystemInfoRequest.getDefaultInstance()));
        ready &= check(checks, "lake", this::checkLake);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ready ? "UP" : "DOWN");
        body.put("checks", checks);
        return ApiResponse.json(ready ? 200 : 503, body);
    }

    private void checkLake() {
        String root = runtime.config().lakeRoot();
        URI uri = URI.create(root.contains("://") ? root : Path.of(root).toUri().toString());
        if (uri.getScheme() == null || uri.getScheme().equals("file")) {
            Path path = Path.of(uri);
            if (!Files.isDirectory(path) && !path.toFile().mkdirs()) {
                throw new IllegalStateException("lake root is not a folder");
            }
            return;
        }
        try {
            var hadoopPath = new org.apache.hadoop.fs.Path(root);
            hadoopPath.getFileSystem(runtime.spark().sparkContext().hadoopConfiguration()).getFileStatus(hadoopPath);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("lake root unreachable", e);
        }
    }

    private static boolean check(Map<String, Object> checks, String name, Runnable probe) {
        long start = System.nanoTime();
        try {
            probe.run();
            checks.put(name, Map.of("status", "UP", "millis", (System.nanoTime() - start) / 1_000_000));
            return true;
        } catch (RuntimeException e) {
            // The reason goes to the log only: readiness is public, and connection errors name hosts and users.
            log.warn("readiness check {} failed: {}", name, e.toString());
            checks.put(name, Map.of("status", "DOWN", "millis", (System.nanoTime() - start) / 1_000_000));
            return false;
        }
    }

    private ApiResponse metrics() {
        Map<String, Double> runs = new LinkedHashMap<>();
        runtime.queries().runCountsByStatus().forEach((status, n) -> runs.put("{status=\"" + status.name() + "\"}", n.doubleValue()));
        Map<String, Map<String, Double>> gauges = new LinkedHashMap<>();
        gauges.put("trellis_training_runs", runs);
        gauges.putAll(runtime.costs().gauges());
        return ApiResponse.text(200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(gauges));
    }

    /** Cost rollups: {@code by} = run, model (default), environment or day; {@code model} filters. */
    private ApiResponse costs(ApiRequest r) {
        UsageTotals.By grouping = r.queryEnum("by", UsageTotals.By.class).orElse(UsageTotals.By.MODEL);
        int limit = r.queryLong("limit", 1, 1000).orElse((long) DEFAULT_PAGE).intValue();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("by", grouping.name().toLowerCase(java.util.Locale.ROOT));
        body.put("currency", runtime.costs().prices().currency());
        body.put("prices", runtime.costs().prices());
        body.put("items", runtime.costs().rollup(grouping, r.queryText("model").orElse(null), limit));
        return ApiResponse.json(200, body);
    }

    static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
