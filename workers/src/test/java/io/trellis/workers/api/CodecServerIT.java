package io.trellis.workers.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.temporal.api.common.v1.Payload;
import io.temporal.api.common.v1.Payloads;
import io.temporal.common.converter.DataConverter;
import io.temporal.common.converter.DefaultDataConverter;
import io.trellis.metadata.DatabaseConfig;
import io.trellis.metadata.PrincipalRole;
import io.trellis.metadata.testing.TestingPostgreSqlServer;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import io.trellis.workers.connect.PayloadEncryption;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The codec endpoints over real HTTP on the running API (real PostgreSQL for tokens and roles): what the workers'
 * codec encrypted comes back decoded, encoding is the workers' codec, unknown keys and tampering are precise 422s,
 * tokens and roles are enforced, and the Temporal UI's origin gets its CORS preflight and headers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CodecServerIT {
    private static final String UI = "http://localhost:8233";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path home;
    private final String key = randomKey();
    private TrellisRuntime runtime;
    private ApiService api;
    private PayloadEncryption workersCodec;
    private String viewer;
    private String auditor;
    private String noRole;
    private final HttpClient http = HttpClient.newHttpClient();

    private static String randomKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return Base64.getEncoder().encodeToString(k);
    }

    @BeforeAll
    void start() throws Exception {
        DatabaseConfig db = TestingPostgreSqlServer.createDatabase(CodecServerIT.class);
        runtime = TrellisRuntime.open(TrellisConfig.load(Optional.empty(), Map.of(
                "TRELLIS_HOME", home.toString(),
                "TRELLIS_JDBC_URL", db.jdbcUrl(),
                "TRELLIS_DB_USER", db.user(),
                "TRELLIS_DB_PASSWORD", db.password(),
                "TRELLIS_CODE_VERSION", "git:codec",
                "TRELLIS_TEMPORAL_CODEC_KEYS", "k2026:" + key,
                "TRELLIS_TEMPORAL_CODEC_CORS_ORIGINS", UI + ",https://temporal.example.com")));
        // What a worker configured with the same setting encrypts with.
        workersCodec = PayloadEncryption.parse("k2026:" + key);
        runtime.registry().grantRoles("vera", Set.of(PrincipalRole.VIEWER), "setup");
        runtime.registry().grantRoles("aud", Set.of(PrincipalRole.AUDITOR), "setup");
        runtime.registry().grantRoles("gone", EnumSet.of(PrincipalRole.VIEWER), "setup");
        runtime.registry().revokeRole("gone", PrincipalRole.VIEWER, "setup");
        viewer = runtime.apiAccess().createToken("vera", "ui", null, "setup").secret();
        auditor = runtime.apiAccess().createToken("aud", "ui", null, "setup").secret();
        noRole = runtime.apiAccess().createToken("gone", "ui", null, "setup").secret();
        api = ApiService.start(runtime, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
    }

    @AfterAll
    void stop() {
        if (api != null) {
            api.close();
        }
        runtime.close();
    }

    private HttpResponse<String> post(String path, String token, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(api.server().baseUri().resolve(path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").header("X-Namespace", "default");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String body(List<Payload> payloads) throws Exception {
        return JsonFormat.printer().print(Payloads.newBuilder().addAllPayloads(payloads).build());
    }

    private static List<Payload> payloads(String json) throws Exception {
        Payloads.Builder b = Payloads.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.getPayloadsList();
    }

    private static String detail(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("detail").asText();
    }

    @Test
    void theEndpointDecodesWhatTheWorkersEncryptedForAViewerAndAnAuditor() throws Exception {
        DataConverter plain = DefaultDataConverter.newDefaultInstance();
        List<Object> values = List.of(Map.of("model", "customer-churn", "secret", "s3cr3t-value"), "a string", 42L);
        List<Payload> original = values.stream().map(v -> plain.toPayload(v).orElseThrow()).toList();
        List<Payload> encrypted = workersCodec.encode(original);
        String request = body(encrypted);
        assertThat(request).doesNotContain(Base64.getEncoder().encodeToString("s3cr3t-value".getBytes(StandardCharsets.UTF_8)))
                .contains(Base64.getEncoder().encodeToString("binary/encrypted".getBytes(StandardCharsets.UTF_8)));

        for (String token : new String[] {viewer, auditor}) {
            HttpResponse<String> r = post("/codec/decode", token, request);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
            List<Payload> decoded = payloads(r.body());
            assertThat(decoded).isEqualTo(original);
            assertThat(plain.fromPayload(decoded.get(0), Map.class, Map.class)).containsEntry("secret", "s3cr3t-value");
        }
        // The wire shape the UI reads: metadata values and data in base64.
        JsonNode first = JSON.readTree(post("/codec/decode", viewer, request).body()).path("payloads").get(0);
        assertThat(first.path("metadata").path("encoding").asText())
                .isEqualTo(Base64.getEncoder().encodeToString("json/plain".getBytes(StandardCharsets.UTF_8)));
        // Unencrypted payloads (written before encryption was on) and an empty list pass through.
        assertThat(payloads(post("/codec/decode", viewer, body(original)).body())).isEqualTo(original);
        assertThat(post("/codec/decode", viewer, "{\"payloads\":[]}").body()).isEqualTo("{\"payloads\":[]}");
    }

    @Test
    void theEndpointEncodesWithTheActiveKeyAsTheWorkersWould() throws Exception {
        List<Payload> original = List.of(DefaultDataConverter.newDefaultInstance().toPayload("start input").orElseThrow());
        HttpResponse<String> r = post("/codec/encode", viewer, body(original));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        List<Payload> encoded = payloads(r.body());
        assertThat(encoded).singleElement().satisfies(p -> {
            assertThat(p.getMetadataOrThrow(PayloadEncryption.KEY_ID).toStringUtf8()).isEqualTo("k2026");
            assertThat(p.getData().toStringUtf8()).doesNotContain("start input");
        });
        assertThat(workersCodec.decode(encoded)).isEqualTo(original);
    }

    @Test
    void anUnknownKeyIdTamperingAndNonPayloadBodiesArePreciseErrors() throws Exception {
        Payload p = DefaultDataConverter.newDefaultInstance().toPayload("old secret").orElseThrow();
        List<Payload> retired = PayloadEncryption.parse("k2025:" + randomKey()).encode(List.of(p));
        HttpResponse<String> unknown = post("/codec/decode", viewer, body(retired));
        assertThat(unknown.statusCode()).isEqualTo(422);
        assertThat(JSON.readTree(unknown.body()).path("type").asText()).isEqualTo("urn:trellis:problem:undecodable-payload");
        assertThat(detail(unknown)).contains("key id 'k2025'", "not among the configured keys [k2026]", "trellis.temporal.codec.keys")
                .doesNotContain(key);

        Payload sealed = workersCodec.encode(List.of(p)).get(0);
        byte[] data = sealed.getData().toByteArray();
        data[data.length - 1] ^= 1;
        HttpResponse<String> tampered = post("/codec/decode", viewer, body(List.of(sealed.toBuilder().setData(ByteString.copyFrom(data)).build())));
        assertThat(tampered.statusCode()).isEqualTo(422);
        assertThat(detail(tampered)).contains("failed authentication");

        HttpResponse<String> wrongShape = post("/codec/decode", viewer, "{\"payloads\":[{\"data\":\"not base64!\"}]}");
        assertThat(wrongShape.statusCode()).isEqualTo(400);
        assertThat(detail(wrongShape)).startsWith("The body is not a Temporal payload list");
        assertThat(post("/codec/decode", viewer, "{\"reason\":\"x\"}").statusCode()).isEqualTo(400);
        assertThat(post("/codec/decode", viewer, "").statusCode()).isEqualTo(400);
    }

    @Test
    void callersNeedAValidTokenWithAReadRole() throws Exception {
        String request = body(workersCodec.encode(List.of(DefaultDataConverter.newDefaultInstance().toPayload("x").orElseThrow())));
        for (String path : new String[] {"/codec/decode", "/codec/encode"}) {
            HttpResponse<String> anonymous = post(path, null, request);
            assertThat(anonymous.statusCode()).isEqualTo(401);
            assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"trellis\"");
            assertThat(anonymous.body()).doesNotContain("payloads");
            assertThat(post(path, "trellis_bogus", request).statusCode()).isEqualTo(401);
            HttpResponse<String> roleless = post(path, noRole, request);
            assertThat(roleless.statusCode()).isEqualTo(403);
            assertThat(detail(roleless)).contains("gone may not call POST " + path);
        }
        HttpResponse<String> get = http.send(HttpRequest.newBuilder(api.server().baseUri().resolve("/codec/decode"))
                .header("Authorization", "Bearer " + viewer).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
    }

    @Test
    void theTemporalUisOriginGetsItsPreflightAndCorsHeadersOthersDoNot() throws Exception {
        HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(api.server().baseUri().resolve("/codec/decode"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", UI)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type,x-namespace").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(preflight.statusCode()).isEqualTo(204);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).contains(UI);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods")).contains("POST");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers")).contains("authorization,content-type,x-namespace");
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Credentials")).contains("true");
        assertThat(preflight.headers().firstValue("Vary")).contains("Origin");

        HttpResponse<String> foreign = http.send(HttpRequest.newBuilder(api.server().baseUri().resolve("/codec/decode"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example.com")
                .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(foreign.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(detail(foreign)).contains("'https://evil.example.com'", "trellis.temporal.codec.cors.origins");

        String request = body(workersCodec.encode(List.of(DefaultDataConverter.newDefaultInstance().toPayload("x").orElseThrow())));
        HttpResponse<String> fromUi = post("/codec/decode", viewer, request, "Origin", UI);
        assertThat(fromUi.statusCode()).isEqualTo(200);
        assertThat(fromUi.headers().firstValue("Access-Control-Allow-Origin")).contains(UI);
        // An error the UI must be able to read (here: no token) carries the headers too.
        assertThat(post("/codec/decode", null, request, "Origin", UI).headers().firstValue("Access-Control-Allow-Origin")).contains(UI);
        assertThat(post("/codec/decode", viewer, request, "Origin", "https://evil.example.com").headers()
                .firstValue("Access-Control-Allow-Origin")).isEmpty();
        // The rest of the API stays same-origin.
        HttpResponse<String> elsewhere = http.send(HttpRequest.newBuilder(api.server().baseUri().resolve("/api/v1/models"))
                .header("Authorization", "Bearer " + viewer).header("Origin", UI).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(elsewhere.statusCode()).isEqualTo(200);
        assertThat(elsewhere.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }
}
