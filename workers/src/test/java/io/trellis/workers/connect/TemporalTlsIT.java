package io.trellis.workers.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.trellis.workers.TestingTrellisConfig;
import io.trellis.workers.TrellisConfig;
import io.trellis.workers.TrellisRuntime;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trellis against a Temporal frontend that demands mutual TLS: the SDK's test server behind a grpc-netty TLS
 * listener on loopback, with a server and a client certificate made by keytool for this run. Configured only
 * through the settings (address, certificate, key, CA, API key, payload encryption keys), the client connects,
 * sends the API key as a bearer token, and a worker on it runs a workflow whose payloads reach the server encrypted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TemporalTlsIT {
    private static final String API_KEY = "trellis-test-api-key-never-logged";

    @TempDir
    static Path tmp;
    private TestServicesStarter services;
    private Server server;
    private TestingCertificates serverCert;
    private TestingCertificates clientCert;
    private TestingCertificates strangerCert;
    private Map<String, String> base;
    private final List<String> authorizations = new CopyOnWriteArrayList<>();

    @BeforeAll
    void startTlsFrontend() throws Exception {
        serverCert = TestingCertificates.create(tmp.resolve("server"), "localhost");
        clientCert = TestingCertificates.create(tmp.resolve("client"), "trellis-worker");
        strangerCert = TestingCertificates.create(tmp.resolve("stranger"), "stranger");
        services = new TestServicesStarter(true, 0);
        Metadata.Key<String> authorization = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .sslContext(GrpcSslContexts.forServer(serverCert.cert().toFile(), serverCert.key().toFile())
                        .trustManager(clientCert.cert().toFile()) // only the worker's certificate may connect
                        .clientAuth(ClientAuth.REQUIRE)
                        .build())
                .intercept(new ServerInterceptor() {
                    @Override
                    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                        String value = headers.get(authorization);
                        if (value != null) {
                            authorizations.add(value);
                        }
                        return next.startCall(call, headers);
                    }
                });
        GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder);
        server = builder.build().start();
        base = new HashMap<>(TestingTrellisConfig.settings(TemporalTlsIT.class));
        base.put("TRELLIS_TEMPORAL_ADDRESS", "127.0.0.1:" + server.getPort());
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (server != null) {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (services != null) {
            services.close();
        }
    }

    private TrellisRuntime open(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(base);
        env.putAll(extra);
        return TrellisRuntime.open(TrellisConfig.load(Optional.empty(), env));
    }

    private static void ping(WorkflowClient client) {
        client.getWorkflowServiceStubs().blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS)
                .getSystemInfo(GetSystemInfoRequest.getDefaultInstance());
    }

    @Test
    void mutualTlsWithAnApiKeyAndEncryptedPayloadsRunsAWorkflow() {
        String secret = "payload-secret-4242";
        try (TrellisRuntime runtime = open(Map.of(
                "TRELLIS_TEMPORAL_TLS_CERT", clientCert.cert().toString(),
                "TRELLIS_TEMPORAL_TLS_KEY", clientCert.key().toString(),
                "TRELLIS_TEMPORAL_TLS_CA", serverCert.cert().toString(),
                "TRELLIS_TEMPORAL_API_KEY", API_KEY,
                "TRELLIS_TEMPORAL_CODEC_KEYS", "k1:" + PayloadEncryptionTest.K1))) {
            assertThat(runtime.config().toString()).doesNotContain(API_KEY).doesNotContain(PayloadEncryptionTest.K1);
            WorkflowClient client = runtime.client();
            ping(client);
            assertThat(authorizations).contains("Bearer " + API_KEY);

            WorkerFactory factory = WorkerFactory.newInstance(client);
            Worker worker = factory.newWorker(EchoWorkflow.TASK_QUEUE);
            worker.registerWorkflowImplementationTypes(EchoWorkflow.Impl.class);
            worker.registerActivitiesImplementations(new EchoWorkflow.ActivitiesImpl());
            factory.start();
            try {
                EchoWorkflow wf = client.newWorkflowStub(EchoWorkflow.class,
                        WorkflowOptions.newBuilder().setTaskQueue(EchoWorkflow.TASK_QUEUE).setWorkflowId("tls-codec-e2e").build());
                assertThat(wf.echo(secret)).isEqualTo("seen:" + secret);
            } finally {
                factory.shutdownNow();
                factory.awaitTermination(10, TimeUnit.SECONDS);
            }
            PayloadEncryptionTest.assertHistoryEncrypted(client, "tls-codec-e2e", secret);
        }
    }

    @Test
    void withoutTheClientCertificateTheFrontendRefusesTheConnection() {
        try (TrellisRuntime runtime = open(Map.of("TRELLIS_TEMPORAL_TLS_CA", serverCert.cert().toString()))) {
            assertThat(runtime.config().temporalAccess().tls()).isTrue();
            assertThatThrownBy(() -> ping(runtime.client())).isInstanceOf(StatusRuntimeException.class)
                    .hasMessageContaining("UNAVAILABLE");
        }
    }

    @Test
    void aServerCertificateThatTheConfiguredCaDidNotSignIsRefused() {
        try (TrellisRuntime runtime = open(Map.of(
                "TRELLIS_TEMPORAL_TLS_CERT", clientCert.cert().toString(),
                "TRELLIS_TEMPORAL_TLS_KEY", clientCert.key().toString(),
                "TRELLIS_TEMPORAL_TLS_CA", strangerCert.cert().toString()))) {
            assertThatThrownBy(() -> ping(runtime.client())).isInstanceOf(StatusRuntimeException.class)
                    .hasMessageContaining("UNAVAILABLE");
        }
    }

    @Test
    void theServerNameOverrideIsWhatTheCertificateIsCheckedAgainst() {
        Map<String, String> mtls = Map.of(
                "TRELLIS_TEMPORAL_TLS_CERT", clientCert.cert().toString(),
                "TRELLIS_TEMPORAL_TLS_KEY", clientCert.key().toString(),
                "TRELLIS_TEMPORAL_TLS_CA", serverCert.cert().toString());
        Map<String, String> right = new HashMap<>(mtls);
        right.put("TRELLIS_TEMPORAL_TLS_SERVER_NAME", "localhost");
        try (TrellisRuntime runtime = open(right)) {
            ping(runtime.client());
        }
        Map<String, String> wrong = new HashMap<>(mtls);
        wrong.put("TRELLIS_TEMPORAL_TLS_SERVER_NAME", "temporal.elsewhere.example");
        try (TrellisRuntime runtime = open(wrong)) {
            assertThatThrownBy(() -> ping(runtime.client())).isInstanceOf(StatusRuntimeException.class)
                    .hasMessageContaining("UNAVAILABLE");
        }
    }
}
