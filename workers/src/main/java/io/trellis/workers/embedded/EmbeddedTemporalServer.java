package io.trellis.workers.embedded;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The Temporal Java SDK's test server as a real gRPC Temporal frontend on 127.0.0.1, in real time (no time
 * skipping). Workers and clients talk to it exactly as to a Temporal cluster. Its state lives in memory:
 * it is the embedded default for one process, not a durable server.
 */
public final class EmbeddedTemporalServer implements AutoCloseable {
    private final TestServicesStarter services;
    private final Server server;

    private EmbeddedTemporalServer(TestServicesStarter services, Server server) {
        this.services = services;
        this.server = server;
    }

    /** Starts on the given loopback port; 0 picks a free one. */
    public static EmbeddedTemporalServer start(int port) {
        // lockTimeSkipping = true: the clock runs in real time, as on a real cluster.
        TestServicesStarter services = new TestServicesStarter(true, 0);
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port));
        GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder);
        try {
            return new EmbeddedTemporalServer(services, builder.build().start());
        } catch (IOException e) {
            services.close();
            throw new UncheckedIOException("cannot start the embedded Temporal server on 127.0.0.1:" + port + ": " + e.getMessage(), e);
        }
    }

    /** The {@code host:port} a {@code WorkflowServiceStubs} target takes. */
    public String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.shutdownNow();
        services.close();
    }
}
