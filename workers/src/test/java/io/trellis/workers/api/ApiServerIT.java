package io.trellis.workers.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.metadata.AuditEntry;
import io.trellis.metadata.MonitoringStore;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RegistryQueries;
import io.trellis.spark.sample.SampleDataOptions;
import io.trellis.spec.ModelSpecLoader;
import io.trellis.spec.SampleModels;
import io.trellis.workers.LocalRetrain;
import io.trellis.workers.PromotionRunner;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workflows.promotion.PromotionRequest;
import io.trellis.workflows.promotion.PromotionStatus;
import io.trellis.workflows.promotion.PromotionWorkflow;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The real API server on a free loopback port over the embedded stack (Temporal test server, PostgreSQL, Spark
 * local, Delta lake): bad input, the role matrix, idempotent concurrent triggers of a real retrain, the reads,
 * the audit export and an approval with four-eyes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiServerIT {
    private static final String MODEL = SampleModels.CUSTOMER_CHURN;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<PrincipalRole, String> ONE_ROLE = new LinkedHashMap<>();

    static {
        ONE_ROLE.put(PrincipalRole.VIEWER, "vera");
        ONE_ROLE.put(PrincipalRole.ML_ENGINEER, "eng");
        ONE_ROLE.put(PrincipalRole.APPROVER, "arnold");
        ONE_ROLE.put(PrincipalRole.AUDITOR, "aud");
        ONE_ROLE.put(PrincipalRole.ADMIN, "root");
    }

    private TrellisRuntime runtime;
    private Registry registry;
    private ApiService api;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Map<String, String> tokens = new LinkedHashMap<>();
    private String revokedToken;
    private String expiredToken;
    private String runKey;

    @BeforeAll
    void start() throws Exception {
        runtime = TrellisRuntime.open(TestingTrellisConfig.forTestClass(ApiServerIT.class));
        registry = runtime.registry();
        new LocalRetrain(runtime, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).generateSampleData(
                new SampleDataOptions(runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), 3_000, 3, 5, SampleDataOptions.NO_DRIFT, 1.0),
                "loader");
        String yaml = SampleModels.customerChurnYaml();
        registry.applyModelSpec(MODEL, yaml, ModelSpecLoader.sha256(yaml), List.of("dev", "staging", "production"), "loader");
        ONE_ROLE.forEach((role, name) -> {
            registry.grantRoles(name, Set.of(role), "setup");
            tokens.put(name, runtime.apiAccess().createToken(name, "test", null, "setup").secret());
        });
        registry.grantRoles("mia", EnumSet.of(PrincipalRole.ML_ENGINEER, PrincipalRole.APPROVER), "setup");
        tokens.put("mia", runtime.apiAccess().createToken("mia", "test", null, "setup").secret());
        registry.grantRoles("norole", Set.of(PrincipalRole.VIEWER), "setup");
        registry.revokeRole("norole", PrincipalRole.VIEWER, "setup");
        tokens.put("norole", runtime.apiAccess().createToken("norole", "test", null, "setup").secret());
        var revoked = runtime.apiAccess().createToken("vera", "revoked", null, "setup");
        runtime.apiAccess().revokeToken(revoked.token().tokenId(), "setup");
        revokedToken = revoked.secret();
        expiredToken = runtime.apiAccess().createToken("vera", "expired", Duration.ofMillis(1), "setup").secret();
        api = ApiService.start(runtime, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
        runtime.close();
    }

    // ------------------------------------------------------------ helpers

    private record Call(String method, String path, String token, String contentType, byte[] body, Map<String, String> headers) {
        static Call get(String path, String token) {
            return new Call("GET", path, token, null, new byte[0], Map.of());
        }

        static Call post(String path, String token, String json) {
            return new Call("POST", path, token, "application/json", json == null ? new byte[0] : json.getBytes(StandardCharsets.UTF_8), Map.of());
        }

        Call header(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Call(method, path, token, contentType, body, h);
        }

        Call contentType(String type) {
            return new Call(method, path, token, type, body, headers);
        }
    }

    private HttpResponse<String> send(Call c) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(api.server().baseUri() + c.path())).timeout(Duration.ofSeconds(60));
        if (c.token() != null) {
            b.header("Authorization", c.token().contains(" ") ? c.token() : "Bearer " + c.token());
        }
        if (c.contentType() != null && c.body().length > 0) {
            b.header("Content-Type", c.contentType());
        }
        c.headers().forEach(b::header);
        b.method(c.method(), c.body().length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(c.body()));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private static String enc(String s) {
        return TrellisApi.encode(s);
    }

    // ------------------------------------------------------------ bad input

    private record Bad(String name, Call call, int status, String detail) {}

    private List<Bad> badRequests() {
        String v = tokens.get("vera");
        String e = tokens.get("eng");
        String a = tokens.get("arnold");
        String au = tokens.get("aud");
        String m = "/api/v1/models/" + MODEL;
        String retrain = m + "/retrains";
        String rollback = m + "/environments/production/rollback";
        String approve = "/api/v1/promotions/" + enc("promote/" + MODEL + "/v9/production/x") + "/approve";
        String reject = "/api/v1/promotions/" + enc("promote/" + MODEL + "/v9/production/x") + "/reject";
        List<Bad> list = new ArrayList<>();
        // authentication
        list.add(new Bad("no token", Call.get("/api/v1/models", null), 401, "needs a bearer token"));
        list.add(new Bad("basic scheme", Call.get("/api/v1/models", "Basic dXNlcjpwYXNz"), 401, "Bearer scheme"));
        list.add(new Bad("unknown token", Call.get("/api/v1/models", "trellis_not-a-real-token"), 401, "no such token"));
        list.add(new Bad("revoked token", Call.get("/api/v1/models", revokedToken), 401, "was revoked"));
        list.add(new Bad("expired token", Call.get("/api/v1/models", expiredToken), 401, "expired at"));
        list.add(new Bad("no token on a write", Call.post(retrain, null, "{}"), 401, "needs a bearer token"));
        list.add(new Bad("no token on an unknown path", Call.get("/api/v1/secret", null), 401, "needs a bearer token"));
        // roles
        list.add(new Bad("viewer triggers", Call.post(retrain, v, "{}"), 403, "needs one of the roles ml-engineer, admin"));
        list.add(new Bad("engineer approves", Call.post(approve, e, null), 403, "needs one of the roles approver"));
        list.add(new Bad("viewer reads audit", Call.get("/api/v1/audit", v), 403, "needs one of the roles auditor, admin"));
        list.add(new Bad("engineer rolls back", Call.post(rollback, e, "{\"reason\":\"x\"}"), 403, "eng holds ml-engineer"));
        list.add(new Bad("principal without roles", Call.get("/api/v1/models", tokens.get("norole")), 403, "norole holds none"));
        // routing and path parameters
        list.add(new Bad("unknown path", Call.get("/api/v1/nothing", v), 404, "No endpoint at /api/v1/nothing"));
        list.add(new Bad("DELETE on a GET route", new Call("DELETE", "/api/v1/models", v, null, new byte[0], Map.of()), 405, "use GET"));
        list.add(new Bad("PUT on a POST route", new Call("PUT", retrain, e, "application/json", "{}".getBytes(), Map.of()), 405, "use POST"));
        list.add(new Bad("unknown model", Call.get("/api/v1/models/no-such-model", v), 404, "No model named 'no-such-model'"));
        list.add(new Bad("versions of unknown model", Call.get("/api/v1/models/ghost/versions", v), 404, "No model named 'ghost'"));
        list.add(new Bad("environments of unknown model", Call.get("/api/v1/models/ghost/environments", v), 404, "No model named 'ghost'"));
        list.add(new Bad("promotions of unknown model", Call.get("/api/v1/models/ghost/promotions", v), 404, "No model named 'ghost'"));
        list.add(new Bad("version not a number", Call.get(m + "/versions/abc", v), 400, "'version' must be a positive integer"));
        list.add(new Bad("version zero", Call.get(m + "/versions/0", v), 400, "'version' must be a positive integer"));
        list.add(new Bad("unknown version", Call.get(m + "/versions/999", v), 404, "has no version 999"));
        list.add(new Bad("lineage of unknown version", Call.get(m + "/versions/999/lineage", v), 404, "has no version 999"));
        list.add(new Bad("unknown run", Call.get("/api/v1/runs/" + enc("retrain/" + MODEL + "/nope"), v), 404, "No run 'retrain/"));
        list.add(new Bad("audit cursor text", Call.get("/api/v1/audit?cursor=abc", au), 400, "'cursor' must be an integer"));
        // query parameters
        list.add(new Bad("unknown query parameter", Call.get("/api/v1/runs?bogus=1", v), 400, "Unknown query parameter 'bogus'"));
        list.add(new Bad("query on a route without any", Call.get("/api/v1/models?x=1", v), 400, "takes none"));
        list.add(new Bad("limit zero", Call.get("/api/v1/runs?limit=0", v), 400, "'limit' must be an integer from 1 to 1000"));
        list.add(new Bad("limit text", Call.get("/api/v1/runs?limit=abc", v), 400, "'limit' must be an integer"));
        list.add(new Bad("limit too large", Call.get("/api/v1/runs?limit=1001", v), 400, "from 1 to 1000"));
        list.add(new Bad("unknown status", Call.get("/api/v1/runs?status=DONE", v), 400, "'status' must be one of"));
        list.add(new Bad("runs of unknown model", Call.get("/api/v1/runs?model=ghost", v), 404, "No model named 'ghost'"));
        list.add(new Bad("repeated parameter", Call.get("/api/v1/runs?limit=1&limit=2", v), 400, "given 2 times"));
        list.add(new Bad("negative cursor", Call.get("/api/v1/runs?cursor=-5", v), 400, "'cursor' must be an integer"));
        list.add(new Bad("empty filter", Call.get("/api/v1/runs?model=", v), 400, "'model' is empty"));
        list.add(new Bad("audit bad time", Call.get("/api/v1/audit?from=yesterday", au), 400, "RFC 3339"));
        list.add(new Bad("audit empty range", Call.get("/api/v1/audit?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", au), 400,
                "time range is empty"));
        list.add(new Bad("audit format", Call.get("/api/v1/audit?format=xml", au), 400, "'format' must be json or csv"));
        list.add(new Bad("audit outcome", Call.get("/api/v1/audit?outcome=MAYBE", au), 400, "'outcome' must be one of"));
        list.add(new Bad("audit version", Call.get("/api/v1/audit?version=x", au), 400, "'version' must be an integer"));
        list.add(new Bad("series without statistic", Call.get(m + "/monitoring/series?feature=age", v), 400,
                "'statistic' is required"));
        list.add(new Bad("series unknown statistic", Call.get(m + "/monitoring/series?feature=age&statistic=mean", v), 400,
                "Unknown statistic 'mean'"));
        list.add(new Bad("series psi without feature", Call.get(m + "/monitoring/series?statistic=psi", v), 400,
                "Name the feature whose psi to show"));
        list.add(new Bad("series of unknown model", Call.get("/api/v1/models/ghost/monitoring/series?statistic=auc", v), 404,
                "No model named 'ghost'"));
        // bodies
        list.add(new Bad("malformed JSON", Call.post(retrain, e, "{"), 400, "not valid JSON"));
        list.add(new Bad("array body", Call.post(retrain, e, "[]"), 400, "must be a JSON object"));
        list.add(new Bad("null body", Call.post(retrain, e, "null"), 400, "JSON null"));
        list.add(new Bad("wrong type", Call.post(retrain, e, "{\"reason\": 5}"), 400, "Field 'reason' must be a string"));
        list.add(new Bad("identity in the body", Call.post(retrain, e, "{\"reason\":\"x\",\"triggeredBy\":\"mallory\"}"), 400,
                "Unknown field 'triggeredBy'"));
        list.add(new Bad("unknown field", Call.post(retrain, e, "{\"window\":{}}"), 400, "Unknown field 'window'"));
        // retrain overrides: checked against the model's spec (logistic_regression, time column event_date) before anything starts
        list.add(new Bad("unknown hyperparameter", Call.post(retrain, e, "{\"hyperparameters\":{\"maxDepth\":3}}"), 400,
                "hyperparameters.maxDepth: unknown hyperparameter for logistic_regression (the algorithm of customer-churn); known: maxIter,"));
        list.add(new Bad("hyperparameter as text", Call.post(retrain, e, "{\"hyperparameters\":{\"maxIter\":\"5\"}}"), 400,
                "Field 'hyperparameters.maxIter' must be a number"));
        list.add(new Bad("hyperparameter null", Call.post(retrain, e, "{\"hyperparameters\":{\"maxIter\":null}}"), 400,
                "Field 'hyperparameters.maxIter' must be a number, not null"));
        list.add(new Bad("hyperparameter fraction", Call.post(retrain, e, "{\"hyperparameters\":{\"maxIter\":2.5}}"), 400,
                "hyperparameters.maxIter: must be a whole number, got 2.5"));
        list.add(new Bad("hyperparameter out of range", Call.post(retrain, e, "{\"hyperparameters\":{\"elasticNetParam\":1.5}}"), 400,
                "hyperparameters.elasticNetParam: 1.5 is out of range [0.0, 1.0]"));
        list.add(new Bad("hyperparameters not an object", Call.post(retrain, e, "{\"hyperparameters\":[1]}"), 400,
                "Field 'hyperparameters' must be a JSON object"));
        list.add(new Bad("window start not a time", Call.post(retrain, e, "{\"from\":\"yesterday\"}"), 400,
                "'from' must be an ISO-8601 instant such as 2025-01-02T00:00:00Z or a date such as 2025-01-02 (midnight UTC), was 'yesterday'"));
        list.add(new Bad("window end a number", Call.post(retrain, e, "{\"to\":20250102}"), 400, "Field 'to' must be a string"));
        list.add(new Bad("reversed window", Call.post(retrain, e, "{\"from\":\"2025-01-03\",\"to\":\"2025-01-02T00:00:00Z\"}"), 400,
                "'from' (2025-01-03T00:00:00Z) must be before 'to' (2025-01-02T00:00:00Z); the window is reversed"));
        list.add(new Bad("empty window", Call.post(retrain, e, "{\"from\":\"2025-01-02\",\"to\":\"2025-01-02T00:00:00Z\"}"), 400,
                "the window is empty"));
        list.add(new Bad("every override problem at once", Call.post(retrain, e,
                "{\"from\":\"2025-01-03\",\"to\":\"2025-01-01\",\"hyperparameters\":{\"maxIter\":0,\"stepSize\":0.1}}"), 400,
                "the window is reversed; hyperparameters.maxIter: 0.0 is out of range [1.0, 10000.0]; hyperparameters.stepSize: unknown"));
        list.add(new Bad("overrides for an unknown model", Call.post("/api/v1/models/ghost/retrains", e, "{\"hyperparameters\":{\"maxIter\":5}}"),
                404, "No model named 'ghost'"));
        list.add(new Bad("bad overrides with an idempotency key", Call.post(retrain, e, "{\"hyperparameters\":{\"maxIter\":-1}}")
                .header("Idempotency-Key", "bad-overrides"), 400, "hyperparameters.maxIter: -1.0 is out of range"));
        // paging the versions list
        list.add(new Bad("versions limit zero", Call.get(m + "/versions?limit=0", v), 400, "'limit' must be an integer from 1 to 1000"));
        list.add(new Bad("versions cursor text", Call.get(m + "/versions?cursor=v2", v), 400, "'cursor' must be an integer"));
        list.add(new Bad("versions unknown parameter", Call.get(m + "/versions?page=2", v), 400, "Unknown query parameter 'page'"));
        list.add(new Bad("trailing content", Call.post(retrain, e, "{\"reason\":\"a\"} x"), 400, "not valid JSON"));
        list.add(new Bad("duplicate field", Call.post(retrain, e, "{\"reason\":\"a\",\"reason\":\"b\"}"), 400, "not valid JSON"));
        list.add(new Bad("text/plain body", Call.post(retrain, e, "{\"reason\":\"x\"}").contentType("text/plain"), 415,
                "Content-Type: application/json"));
        list.add(new Bad("form body", Call.post(retrain, e, "reason=x").contentType("application/x-www-form-urlencoded"), 415,
                "must be JSON"));
        list.add(new Bad("oversized body", Call.post(retrain, e, "{\"reason\":\"" + "x".repeat(70_000) + "\"}"), 413, "larger than 64 KiB"));
        list.add(new Bad("reason too long", Call.post(retrain, e, "{\"reason\":\"" + "x".repeat(1001) + "\"}"), 400, "keep it to 1000"));
        list.add(new Bad("retrain of unknown model", Call.post("/api/v1/models/ghost/retrains", e, "{}"), 404, "No model named 'ghost'"));
        list.add(new Bad("idempotency key too long", Call.post(retrain, e, "{}").header("Idempotency-Key", "k".repeat(300)), 400,
                "Idempotency-Key header must be 1 to 255"));
        list.add(new Bad("idempotency key with a space", Call.post(retrain, e, "{}").header("Idempotency-Key", "a b"), 400,
                "Idempotency-Key header"));
        // decisions and rollbacks
        list.add(new Bad("approve unknown promotion", Call.post(approve, a, null), 404, "No promotion 'promote/"));
        list.add(new Bad("reject without body", Call.post(reject, a, null), 400, "needs a JSON body"));
        list.add(new Bad("reject blank reason", Call.post(reject, a, "{\"reason\":\" \"}"), 400, "non-blank 'reason'"));
        list.add(new Bad("approve reason array", Call.post(approve, a, "{\"reason\":[\"x\"]}"), 400, "Field 'reason' must be a string"));
        list.add(new Bad("rollback without body", Call.post(rollback, a, null), 400, "needs a JSON body"));
        list.add(new Bad("rollback version text", Call.post(rollback, a, "{\"toVersion\":\"two\",\"reason\":\"x\"}"), 400,
                "Field 'toVersion' must be an integer"));
        list.add(new Bad("rollback version fraction", Call.post(rollback, a, "{\"toVersion\":1.5,\"reason\":\"x\"}"), 400,
                "Field 'toVersion' must be an integer"));
        list.add(new Bad("rollback version zero", Call.post(rollback, a, "{\"toVersion\":0,\"reason\":\"x\"}"), 400, "positive version"));
        list.add(new Bad("rollback no reason", Call.post(rollback, a, "{\"toVersion\":1}"), 400, "non-blank 'reason'"));
        list.add(new Bad("rollback unknown environment", Call.post(m + "/environments/moon/rollback", a, "{\"reason\":\"x\"}"), 404,
                "no environment 'moon'"));
        list.add(new Bad("rollback unknown model", Call.post("/api/v1/models/ghost/environments/production/rollback", a, "{\"reason\":\"x\"}"),
                404, "No model named 'ghost'"));
        list.add(new Bad("rollback with nothing live", Call.post(rollback, a, "{\"reason\":\"bad model\"}"), 409, "Nothing is live in production"));
        return list;
    }

    @Test
    @Order(1)
    void badRequestsGetPreciseProblemsAndChangeNothing() throws Exception {
        List<Bad> cases = badRequests();
        assertThat(cases).hasSizeGreaterThanOrEqualTo(50);
        List<String> failures = new ArrayList<>();
        for (Bad c : cases) {
            HttpResponse<String> r = send(c.call());
            String type = r.headers().firstValue("Content-Type").orElse("");
            JsonNode body = r.body().isEmpty() ? JSON.nullNode() : json(r);
            String detail = body.path("detail").asText();
            if (r.statusCode() != c.status() || !type.equals("application/problem+json") || body.path("status").asInt() != c.status()
                    || !body.path("type").asText().startsWith(ApiProblem.TYPE_PREFIX) || !detail.contains(c.detail())
                    || detail.matches("(?s).*(Exception|java\\.|org\\.|io\\.trellis|SQL|at [a-z]+\\.).*")) {
                failures.add(c.name() + ": got " + r.statusCode() + " " + type + " " + r.body());
            }
        }
        assertThat(failures).isEmpty();
        // Nothing happened: no run, no deployment, no idempotency key claimed.
        assertThat(runtime.queries().runs(new RegistryQueries.RunFilter(null, null, null, null, 10)).items()).isEmpty();
        assertThat(registry.deployments(MODEL)).isEmpty();
        HttpResponse<String> unauthorized = send(Call.get("/api/v1/models", null));
        assertThat(unauthorized.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"trellis\"");
        assertThat(send(Call.get("/api/v1/models", revokedToken)).headers().firstValue("WWW-Authenticate").orElse(""))
                .contains("invalid_token");
        assertThat(send(new Call("DELETE", "/api/v1/models", tokens.get("vera"), null, new byte[0], Map.of())).headers()
                .firstValue("Allow")).contains("GET");
    }

    // ------------------------------------------------------------ role matrix

    /** A harmless request per route: unknown names, so allowed calls answer 404/409 and change nothing. */
    private Call probe(Route route, String token) {
        String path = route.path()
                .replace("{model}", "matrix-ghost")
                .replace("{version}", "1")
                .replace("{environment}", "production")
                .replace("{scheduleId}", "retrain-matrix-ghost")
                .replace("{runKey}", enc("retrain/matrix-ghost/x"))
                .replace("{holdId}", "999999")
                .replace("{retentionId}", enc("retention/matrix-ghost"))
                .replace("{promotionKey}", enc("promote/matrix-ghost/v1/production/x"));
        return route.method().equals("POST") ? Call.post(path, token, "{\"reason\":\"matrix\"}")
                : new Call(route.method(), path, token, null, new byte[0], Map.of());
    }

    @Test
    @Order(2)
    void everyEndpointEnforcesTheRoleMatrix() throws Exception {
        List<String> failures = new ArrayList<>();
        int calls = 0;
        for (Route route : api.server().routes()) {
            for (String anonymous : new String[] {null, "trellis_bogus", revokedToken}) {
                HttpResponse<String> r = send(probe(route, anonymous));
                calls++;
                boolean ok = route.access() == Access.PUBLIC ? r.statusCode() == 200 : r.statusCode() == 401;
                if (!ok) {
                    failures.add(route.operationId() + " without a valid token: " + r.statusCode());
                }
            }
            for (Map.Entry<PrincipalRole, String> e : ONE_ROLE.entrySet()) {
                HttpResponse<String> r = send(probe(route, tokens.get(e.getValue())));
                calls++;
                boolean allowed = route.access().allows(Set.of(e.getKey()));
                boolean ok = allowed ? r.statusCode() != 401 && r.statusCode() != 403 && r.statusCode() < 500 : r.statusCode() == 403;
                if (!ok) {
                    failures.add(route.operationId() + " as " + e.getKey() + " (" + (allowed ? "allowed" : "denied") + "): " + r.statusCode()
                            + " " + r.body());
                }
            }
            HttpResponse<String> none = send(probe(route, tokens.get("norole")));
            calls++;
            if (route.access() != Access.PUBLIC && none.statusCode() != 403) {
                failures.add(route.operationId() + " with no role: " + none.statusCode());
            }
        }
        assertThat(failures).isEmpty();
        assertThat(calls).isEqualTo(api.server().routes().size() * 9);
        assertThat(runtime.queries().runs(new RegistryQueries.RunFilter(null, null, null, null, 10)).items()).isEmpty();
    }

    // ------------------------------------------------------------ a real retrain through the API

    @Test
    @Order(3)
    void fiftyConcurrentTriggersWithOneKeyStartExactlyOneRun() throws Exception {
        int n = 50;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> futures = new ArrayList<>();
        Call call = Call.post("/api/v1/models/" + MODEL + "/retrains", tokens.get("mia"), "{\"reason\":\"api test\"}")
                .header("Idempotency-Key", "nightly-2026-11-26");
        try {
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return send(call);
                }));
            }
            go.countDown();
            Set<String> runKeys = new HashSet<>();
            int started = 0;
            for (Future<HttpResponse<String>> f : futures) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).as(r.body()).isIn(200, 202);
                JsonNode body = json(r);
                runKeys.add(body.get("runKey").asText());
                started += r.statusCode() == 202 ? 1 : 0;
                assertThat(body.get("triggeredBy").asText()).isEqualTo("mia");
            }
            assertThat(runKeys).hasSize(1);
            assertThat(started).isEqualTo(1);
            runKey = runKeys.iterator().next();
        } finally {
            pool.shutdownNow();
        }

        // Follow it through the API until it finishes.
        Instant deadline = Instant.now().plus(Duration.ofMinutes(6));
        JsonNode run;
        boolean sawProgress = false;
        while (true) {
            HttpResponse<String> r = send(Call.get("/api/v1/runs/" + enc(runKey), tokens.get("vera")));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            run = json(r);
            sawProgress |= run.path("progress").has("stepNumber");
            String status = run.has("run") ? run.path("run").path("status").asText() : "STARTING";
            if (!status.equals("RUNNING") && !status.equals("STARTING")) {
                break;
            }
            assertThat(Instant.now()).as("run %s finishes", runKey).isBefore(deadline);
            Thread.sleep(500);
        }
        assertThat(sawProgress).as("progress was visible while the run ran").isTrue();
        assertThat(run.path("run").path("status").asText()).isEqualTo("SUCCEEDED");
        assertThat(run.path("run").path("triggeredBy").asText()).isEqualTo("mia");
        assertThat(run.path("version").path("version").asInt()).isEqualTo(1);
        assertThat(run.path("version").path("gateResults").isArray()).isTrue();
        assertThat(run.path("validation").path("passed").asBoolean()).isTrue();

        // Exactly one run exists, and repeating the request later still names it.
        JsonNode runs = json(send(Call.get("/api/v1/runs?model=" + MODEL, tokens.get("vera"))));
        assertThat(runs.path("items")).hasSize(1);
        HttpResponse<String> again = send(call);
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).contains("true");
        assertThat(json(again).get("runKey").asText()).isEqualTo(runKey);
        HttpResponse<String> otherBody = send(Call.post("/api/v1/models/" + MODEL + "/retrains", tokens.get("mia"), "{\"reason\":\"other\"}")
                .header("Idempotency-Key", "nightly-2026-11-26"));
        assertThat(otherBody.statusCode()).isEqualTo(422);
        assertThat(json(otherBody).get("detail").asText()).contains("different request body");
        assertThat(runtime.queries().runs(new RegistryQueries.RunFilter(MODEL, null, null, null, 10)).items()).hasSize(1);
    }

    @Test
    @Order(4)
    void readsShowModelsVersionsLineageAndEnvironments() throws Exception {
        String v = tokens.get("vera");
        JsonNode models = json(send(Call.get("/api/v1/models", v)));
        assertThat(models.path("items").get(0).path("name").asText()).isEqualTo(MODEL);
        assertThat(models.path("items").get(0).path("latestVersion").asInt()).isEqualTo(1);
        JsonNode model = json(send(Call.get("/api/v1/models/" + MODEL, v)));
        assertThat(model.path("environments").toString()).isEqualTo("[\"dev\",\"staging\",\"production\"]");
        JsonNode versions = json(send(Call.get("/api/v1/models/" + MODEL + "/versions", v)));
        assertThat(versions.path("items").get(0).path("metrics").has("auc")).isTrue();
        JsonNode lineage = json(send(Call.get("/api/v1/models/" + MODEL + "/versions/1/lineage", v)));
        assertThat(lineage.path("run").path("runKey").asText()).isEqualTo(runKey);
        assertThat(lineage.path("inputs").size()).isGreaterThanOrEqualTo(2);
        JsonNode envs = json(send(Call.get("/api/v1/models/" + MODEL + "/environments", v)));
        assertThat(envs.path("items").get(0).path("name").asText()).isEqualTo("dev");
        assertThat(envs.path("items").get(0).path("candidate").asInt()).isEqualTo(1);
        assertThat(envs.path("items").get(2).path("live").isNull()).isTrue();
        JsonNode filtered = json(send(Call.get("/api/v1/runs?status=FAILED", v)));
        assertThat(filtered.path("items")).isEmpty();
        JsonNode byActor = json(send(Call.get("/api/v1/runs?triggeredBy=mia&status=succeeded", v)));
        assertThat(byActor.path("items")).hasSize(1);

        // A monitoring statistic's series (two runs recorded in PostgreSQL as the monitor activity records them).
        for (int i = 1; i <= 2; i++) {
            runtime.monitoring().recordRun(new MonitoringStore.MonitoringRun("monitor/" + MODEL + "/production/api-" + i, MODEL, 1,
                    "production", "NO_DRIFT", "no drift", null, "2025-01-04", "2025-01-04", 3000L, 1000L, null, List.of(), "ops", null),
                    List.of(new MonitoringStore.Statistic("age", "psi", 0.01 * i, "NONE"),
                            new MonitoringStore.Statistic(MonitoringStore.MODEL, "auc", 0.8, null)));
        }
        JsonNode series = json(send(Call.get("/api/v1/models/" + MODEL + "/monitoring/series?feature=age&statistic=psi", v)));
        assertThat(series.path("feature").asText()).isEqualTo("age");
        assertThat(series.path("items")).hasSize(2);
        assertThat(series.path("items").get(0).path("value").asDouble()).isEqualTo(0.01);
        assertThat(series.path("items").get(1).path("runKey").asText()).isEqualTo("monitor/" + MODEL + "/production/api-2");
        assertThat(series.path("items").get(1).path("environment").asText()).isEqualTo("production");
        JsonNode auc = json(send(Call.get("/api/v1/models/" + MODEL + "/monitoring/series?statistic=auc&environment=production&limit=1", v)));
        assertThat(auc.path("feature").asText()).isEqualTo(MonitoringStore.MODEL);
        assertThat(auc.path("items")).hasSize(1);
        JsonNode staging = json(send(Call.get("/api/v1/models/" + MODEL + "/monitoring/series?statistic=auc&environment=staging", v)));
        assertThat(staging.path("items")).isEmpty();
    }

    @Test
    @Order(5)
    void approvalsFollowFourEyesAndRecordTheTokensIdentity() throws Exception {
        PromotionRunner promotions = new PromotionRunner(runtime, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        PromotionWorkflow wf = promotions.start(new PromotionRequest(MODEL, 1, "production", "mia", "first release"));
        PromotionRunner.Outcome waiting = promotions.follow(wf, Duration.ofMinutes(5));
        assertThat(waiting.status()).isEqualTo(PromotionStatus.AWAITING_APPROVAL);
        String path = "/api/v1/promotions/" + enc(waiting.promotionKey()) + "/approve";

        HttpResponse<String> self = send(Call.post(path, tokens.get("mia"), "{\"reason\":\"lgtm\"}"));
        assertThat(self.statusCode()).as(self.body()).isEqualTo(403);
        assertThat(json(self).get("detail").asText()).contains("four-eyes");

        HttpResponse<String> approved = send(Call.post(path, tokens.get("arnold"), "{\"reason\":\"metrics reviewed\"}"));
        assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
        assertThat(json(approved).get("decidedBy").asText()).isEqualTo("arnold");
        assertThat(promotions.follow(wf, Duration.ofMinutes(5)).status()).isEqualTo(PromotionStatus.DEPLOYED);

        JsonNode envs = json(send(Call.get("/api/v1/models/" + MODEL + "/environments", tokens.get("vera"))));
        assertThat(envs.path("items").get(2).path("live").asInt()).isEqualTo(1);
        HttpResponse<String> again = send(Call.post(path, tokens.get("arnold"), "{}"));
        assertThat(again.statusCode()).isEqualTo(409);

        // Only one version was ever live in production: nothing to roll back to.
        HttpResponse<String> rollback = send(Call.post("/api/v1/models/" + MODEL + "/environments/production/rollback", tokens.get("arnold"),
                "{\"reason\":\"drift\"}"));
        assertThat(rollback.statusCode()).as(rollback.body()).isEqualTo(409);

        List<AuditEntry> approvals = registry.auditTrail(io.trellis.metadata.AuditQuery.forModel(MODEL)).stream()
                .filter(a -> a.action().equals("promotion.approved")).toList();
        assertThat(approvals).extracting(AuditEntry::actor).contains("mia", "arnold");
    }

    @Test
    @Order(6)
    void theAuditTrailPagesStablyAsJsonAndCsv() throws Exception {
        String au = tokens.get("aud");
        JsonNode all = json(send(Call.get("/api/v1/audit?model=" + MODEL + "&limit=1000", au)));
        int total = all.path("items").size();
        assertThat(total).isGreaterThan(5);
        List<Long> paged = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = json(send(Call.get("/api/v1/audit?model=" + MODEL + "&limit=3" + (cursor == null ? "" : "&cursor=" + cursor), au)));
            page.path("items").forEach(i -> paged.add(i.path("id").asLong()));
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asText();
        } while (cursor != null);
        List<Long> ids = new ArrayList<>();
        all.path("items").forEach(i -> ids.add(i.path("id").asLong()));
        assertThat(paged).isEqualTo(ids);

        JsonNode started = json(send(Call.get("/api/v1/audit?action=retrain.started&runKey=" + enc(runKey), au)));
        assertThat(started.path("items")).hasSize(1);
        assertThat(started.path("items").get(0).path("actor").asText()).isEqualTo("mia");
        JsonNode byActor = json(send(Call.get("/api/v1/audit?actor=arnold&outcome=SUCCESS&from=2000-01-01T00:00:00Z", au)));
        assertThat(byActor.path("items")).extracting(i -> i.path("action").asText()).contains("promotion.approved");

        HttpResponse<String> csv = send(Call.get("/api/v1/audit?model=" + MODEL + "&format=csv&limit=1000", au));
        assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        String[] lines = csv.body().split("\r\n");
        assertThat(lines[0]).isEqualTo(AuditCsv.HEADER);
        assertThat(lines).hasSize(total + 1);
        HttpResponse<String> csvByAccept = send(Call.get("/api/v1/audit?limit=2", au).header("Accept", "text/csv"));
        assertThat(csvByAccept.body()).startsWith(AuditCsv.HEADER);
        assertThat(csvByAccept.headers().firstValue("X-Next-Cursor")).isPresent();
    }

    @Test
    @Order(7)
    void healthReadinessMetricsAndTheDocument() throws Exception {
        assertThat(send(Call.get("/healthz", null)).statusCode()).isEqualTo(200);
        HttpResponse<String> ready = send(Call.get("/readyz", null));
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(json(ready).path("checks").path("temporal").path("status").asText()).isEqualTo("UP");
        assertThat(json(ready).path("checks").path("postgres").path("status").asText()).isEqualTo("UP");
        assertThat(json(ready).path("checks").path("lake").path("status").asText()).isEqualTo("UP");
        HttpResponse<String> metrics = send(Call.get("/metrics", tokens.get("vera")));
        assertThat(metrics.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        assertThat(metrics.body()).contains("trellis_retrain_triggers_total{outcome=\"started\"} 1\n")
                .contains("trellis_http_requests_total{method=\"POST\",route=\"/api/v1/models/{model}/retrains\",status=\"200\"}")
                .contains("trellis_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/runs/{runKey}\",le=\"+Inf\"}")
                .contains("trellis_training_runs{status=\"SUCCEEDED\"} 1\n")
                .containsPattern("trellis_estimated_cost\\{model=\"" + MODEL + "\",environment=\"dev\",currency=\"USD\"} [0-9.]+\n")
                .containsPattern("trellis_spark_step_attempts\\{model=\"" + MODEL + "\",environment=\"dev\"} [1-9][0-9]*\n");

        // Costs are a viewer's read: the run attempt by attempt, and rollups.
        JsonNode runCosts = json(send(Call.get("/api/v1/runs/" + enc(runKey) + "/costs", tokens.get("vera"))));
        assertThat(runCosts.path("attempts")).hasSizeGreaterThanOrEqualTo(4);
        assertThat(runCosts.path("attempts").findValuesAsText("step")).contains("snapshot + validate", "build features", "train", "evaluate");
        assertThat(runCosts.path("total").path("estimatedCost").asDouble()).isPositive();
        JsonNode byModel = json(send(Call.get("/api/v1/costs?by=model&model=" + MODEL, tokens.get("vera"))));
        // Runs: every workflow that ran Spark for the model (the retrain, and the promotions' shadow and scoring runs).
        assertThat(byModel.path("items")).singleElement().satisfies(i -> {
            assertThat(i.path("runs").asInt()).isGreaterThanOrEqualTo(1);
            assertThat(i.path("attempts").asInt()).isGreaterThanOrEqualTo(runCosts.path("attempts").size());
        });
        assertThat(byModel.path("prices").path("perCoreHour").asDouble()).isEqualTo(0.05);
        assertThat(send(Call.get("/api/v1/costs?by=week", tokens.get("vera"))).statusCode()).isEqualTo(400);
        HttpResponse<String> doc = send(Call.get("/openapi.json", tokens.get("vera")));
        assertThat(json(doc)).isEqualTo(JSON.readTree(Json.write(OpenApiDocument.tree())));
    }

    private JsonNode pollSchedule(String id, java.util.function.Predicate<JsonNode> until) throws Exception {
        Instant deadline = Instant.now().plusSeconds(30);
        while (true) {
            JsonNode s = json(send(Call.get("/api/v1/schedules/" + id, tokens.get("vera"))));
            if (until.test(s)) {
                return s;
            }
            assertThat(Instant.now()).as("schedule %s reaches the expected state: %s", id, s).isBefore(deadline);
            Thread.sleep(100);
        }
    }

    @Test
    @Order(8)
    void schedulesAreManagedThroughTheApiAndAudited() throws Exception {
        String e = tokens.get("eng");
        String body = "{\"model\":\"" + MODEL + "\",\"kind\":\"RETRAIN\",\"cron\":\"0 3 1 1 *\",\"timeZone\":\"Europe/Berlin\"}";
        HttpResponse<String> created = send(Call.post("/api/v1/schedules", e, body));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = "retrain-" + MODEL;
        assertThat(created.headers().firstValue("Location")).contains("/api/v1/schedules/" + id);
        JsonNode view = json(created);
        assertThat(view.path("definition").path("overlap").asText()).isEqualTo("SKIP");
        java.time.LocalDateTime next = Instant.parse(view.path("nextFireTime").asText()).atZone(java.time.ZoneId.of("Europe/Berlin"))
                .toLocalDateTime();
        assertThat(next.getHour()).isEqualTo(3);
        assertThat(next.getDayOfYear()).isEqualTo(1);

        assertThat(send(Call.post("/api/v1/schedules", e, body)).statusCode()).isEqualTo(409);
        HttpResponse<String> badCron = send(Call.post("/api/v1/schedules", e, body.replace("0 3 1 1 *", "0 25 * * *")));
        assertThat(badCron.statusCode()).isEqualTo(400);
        assertThat(json(badCron).path("detail").asText()).contains("Invalid cron expression '0 25 * * *': the hour field has 25");
        HttpResponse<String> badZone = send(Call.post("/api/v1/schedules", e, body.replace("Europe/Berlin", "Mars/Olympus")));
        assertThat(json(badZone).path("detail").asText()).contains("Unknown time zone 'Mars/Olympus'");
        HttpResponse<String> badKind = send(Call.post("/api/v1/schedules", e, body.replace("RETRAIN", "SOMETIMES")));
        assertThat(badKind.statusCode()).isEqualTo(400);
        assertThat(json(badKind).path("detail").asText()).contains("Field 'kind' must be one of RETRAIN, SCORE");
        assertThat(send(Call.post("/api/v1/schedules", e, body.replace(MODEL, "ghost"))).statusCode()).isEqualTo(404);
        HttpResponse<String> badEnv = send(Call.post("/api/v1/schedules", e,
                "{\"model\":\"" + MODEL + "\",\"kind\":\"SCORE\",\"environment\":\"moon\",\"cron\":\"0 3 * * *\"}"));
        assertThat(json(badEnv).path("detail").asText()).contains("has no environment 'moon'");
        assertThat(send(Call.post("/api/v1/schedules", tokens.get("vera"), body)).statusCode()).isEqualTo(403);

        JsonNode list = json(send(Call.get("/api/v1/schedules", tokens.get("vera"))));
        assertThat(list.path("items")).extracting(i -> i.path("definition").path("scheduleId").asText()).containsExactly(id);

        HttpResponse<String> updated = send(new Call("PUT", "/api/v1/schedules/" + id, e, "application/json",
                "{\"cron\":\"0 4 1 1 *\",\"overlap\":\"BUFFER_ONE\"}".getBytes(StandardCharsets.UTF_8), Map.of()));
        assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
        pollSchedule(id, v -> v.path("definition").path("cron").asText().equals("0 4 1 1 *")
                && v.path("definition").path("overlap").asText().equals("BUFFER_ONE"));

        assertThat(send(Call.post("/api/v1/schedules/" + id + "/pause", e, "{\"note\":\"freeze\"}")).statusCode()).isEqualTo(202);
        JsonNode paused = pollSchedule(id, v -> v.path("paused").asBoolean());
        assertThat(paused.path("note").asText()).isEqualTo("freeze");
        assertThat(send(Call.post("/api/v1/schedules/" + id + "/resume", e, null)).statusCode()).isEqualTo(202);
        pollSchedule(id, v -> !v.path("paused").asBoolean() && !v.path("nextFireTime").isNull());

        HttpResponse<String> deleted = send(new Call("DELETE", "/api/v1/schedules/" + id, e, null, new byte[0], Map.of()));
        assertThat(deleted.statusCode()).isEqualTo(204);
        Instant deadline = Instant.now().plusSeconds(30);
        while (send(Call.get("/api/v1/schedules/" + id, tokens.get("vera"))).statusCode() != 404) {
            assertThat(Instant.now()).isBefore(deadline);
            Thread.sleep(100);
        }
        assertThat(send(Call.post("/api/v1/schedules/" + id + "/trigger", e, null)).statusCode()).isEqualTo(404);

        JsonNode audit = json(send(Call.get("/api/v1/audit?actor=eng&model=" + MODEL, tokens.get("aud"))));
        assertThat(audit.path("items")).extracting(i -> i.path("action").asText())
                .containsSubsequence("schedule.created", "schedule.updated", "schedule.paused", "schedule.resumed", "schedule.deleted");
    }
    // ------------------------------------------------------------ a retrain with overrides, end to end

    @Test
    @Order(9)
    void aRetrainWithAWindowAndHyperparametersTrainsOnTheWindowRecordsThemAndReproduces() throws Exception {
        String retrain = "/api/v1/models/" + MODEL + "/retrains";
        String body = "{\"reason\":\"day two only\",\"from\":\"2025-01-02\",\"to\":\"2025-01-03T00:00:00Z\","
                + "\"hyperparameters\":{\"maxIter\":7,\"regParam\":0.05}}";
        HttpResponse<String> started = send(Call.post(retrain, tokens.get("eng"), body).header("Idempotency-Key", "day-two"));
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        JsonNode trigger = json(started);
        String key = trigger.get("runKey").asText();
        assertThat(trigger.path("overrides").path("from").asText()).isEqualTo("2025-01-02T00:00:00Z");
        assertThat(trigger.path("overrides").path("hyperparameters").path("maxIter").asDouble()).isEqualTo(7.0);

        // The key covers the overrides: the same request written differently replays, another window or value is refused.
        String sameInOtherWords = "{\"hyperparameters\":{\"regParam\":0.05,\"maxIter\":7.0},\"to\":\"2025-01-03\","
                + "\"from\":\"2025-01-02T00:00:00Z\",\"reason\":\"day two only\"}";
        HttpResponse<String> replay = send(Call.post(retrain, tokens.get("eng"), sameInOtherWords).header("Idempotency-Key", "day-two"));
        assertThat(replay.statusCode()).as(replay.body()).isEqualTo(200);
        assertThat(json(replay).get("runKey").asText()).isEqualTo(key);
        for (String other : List.of(body.replace("\"maxIter\":7", "\"maxIter\":8"), body.replace("2025-01-03T00:00:00Z", "2025-01-04T00:00:00Z"),
                "{\"reason\":\"day two only\"}")) {
            HttpResponse<String> refused = send(Call.post(retrain, tokens.get("eng"), other).header("Idempotency-Key", "day-two"));
            assertThat(refused.statusCode()).as(other + " -> " + refused.body()).isEqualTo(422);
            assertThat(json(refused).get("type").asText()).endsWith("idempotency-key-reused");
            assertThat(json(refused).get("detail").asText()).contains("different request body", key);
        }

        JsonNode run = awaitRun(key);
        assertThat(run.path("run").path("status").asText()).as(run.toString()).isIn("SUCCEEDED", "GATE_FAILED");
        assertThat(run.path("run").path("overrides").path("to").asText()).isEqualTo("2025-01-03T00:00:00Z");

        // The snapshot validated exactly the window's rows, and the feature table holds exactly them.
        var source = io.trellis.spark.DeltaTables.read(runtime.spark(), new io.trellis.spark.DatasetVersion(
                runtime.lake().resolve(SampleModels.CUSTOMER_CHURN_TABLE), run.path("validation").path("report").path("deltaVersion").asLong()));
        long inWindow = source.where("event_date = DATE'2025-01-02'").count();
        long whole = source.count();
        assertThat(inWindow).isBetween(500L, whole - 1);
        JsonNode windowRule = null;
        for (JsonNode rule : run.path("validation").path("report").path("rules")) {
            if (rule.path("rule").asText().equals("data_window")) {
                windowRule = rule;
            }
        }
        assertThat(windowRule).as(run.path("validation").toString()).isNotNull();
        assertThat(windowRule.path("observed").asText()).isEqualTo(inWindow + " rows");
        assertThat(windowRule.path("allowed").asText()).isEqualTo("event_date in [2025-01-02T00:00:00Z, 2025-01-03T00:00:00Z)");
        assertThat(run.path("validation").path("report").path("rowCount").asLong()).as("the dataset version keeps its own row count")
                .isEqualTo(whole);
        int version = run.path("version").path("version").asInt();
        JsonNode lineage = json(send(Call.get("/api/v1/models/" + MODEL + "/versions/" + version + "/lineage", tokens.get("vera"))));
        long featureRows = -1;
        for (JsonNode input : lineage.path("inputs")) {
            if (input.path("relation").asText().equals("features")) {
                featureRows = input.path("dataset").path("rowCount").asLong();
            }
        }
        assertThat(featureRows).as(lineage.path("inputs").toString()).isEqualTo(inWindow);

        // The hyperparameters reached training and are the version's recorded parameters; the spec's others stay.
        JsonNode params = run.path("version").path("params");
        assertThat(params.path("maxIter").asDouble()).as(params.toString()).isEqualTo(7.0);
        assertThat(params.path("regParam").asDouble()).isEqualTo(0.05);
        assertThat(params.path("elasticNetParam").asDouble()).isEqualTo(0.0);
        JsonNode audit = json(send(Call.get("/api/v1/audit?action=retrain.started&runKey=" + enc(key), tokens.get("aud"))));
        assertThat(audit.path("items").get(0).path("details").path("overrides").path("hyperparameters").path("regParam").asDouble())
                .isEqualTo(0.05);

        // Reproduction applies the recorded window and hyperparameters: same feature rows, same metrics.
        var reproduced = new io.trellis.workers.Reproduction(runtime.metadata(), runtime.spark(), runtime.config().home().resolve("scratch"))
                .run(MODEL, version, "aud");
        assertThat(reproduced.featureRows()).isEqualTo(inWindow);
        assertThat(reproduced.featuresIdentical()).isTrue();
        assertThat(reproduced.reproduced()).as(reproduced.toString()).isTrue();

        // The versions list pages by version number.
        JsonNode first = json(send(Call.get("/api/v1/models/" + MODEL + "/versions?limit=1", tokens.get("vera"))));
        assertThat(first.path("items")).hasSize(1);
        assertThat(first.path("items").get(0).path("version").asInt()).isEqualTo(1);
        assertThat(first.path("nextCursor").asText()).isEqualTo("1");
        JsonNode second = json(send(Call.get("/api/v1/models/" + MODEL + "/versions?limit=1&cursor=1", tokens.get("vera"))));
        assertThat(second.path("items").get(0).path("version").asInt()).isEqualTo(version);
        assertThat(second.path("nextCursor").isNull()).isTrue();
    }

    private JsonNode awaitRun(String key) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofMinutes(6));
        while (true) {
            HttpResponse<String> r = send(Call.get("/api/v1/runs/" + enc(key), tokens.get("vera")));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode run = json(r);
            String status = run.has("run") ? run.path("run").path("status").asText() : "STARTING";
            if (!status.equals("RUNNING") && !status.equals("STARTING")) {
                return run;
            }
            assertThat(Instant.now()).as("run %s finishes", key).isBefore(deadline);
            Thread.sleep(500);
        }
    }
}
