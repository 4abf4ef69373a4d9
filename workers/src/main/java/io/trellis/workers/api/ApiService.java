package io.trellis.workers.api;

import io.trellis.workers.TrellisRuntime;
import java.io.IOException;
import java.net.InetSocketAddress;

/** The API as one object: {@link TrellisApi}'s routes served by an {@link ApiServer} with token authentication. */
public final class ApiService implements AutoCloseable {
    private final ApiServer server;

    private ApiService(ApiServer server) {
        this.server = server;
    }

    /** Serves the API of {@code runtime} on {@code address} (port 0: any free port) with {@code threads} handler threads. */
    public static ApiService start(TrellisRuntime runtime, InetSocketAddress address, int threads) throws IOException {
        return start(runtime, address, threads, new TokenAuthenticator(runtime.apiAccess()));
    }

    /** As {@link #start(TrellisRuntime, InetSocketAddress, int)} with another {@link Authenticator} (e.g. OIDC). */
    public static ApiService start(TrellisRuntime runtime, InetSocketAddress address, int threads, Authenticator authenticator)
            throws IOException {
        ApiMetrics metrics = new ApiMetrics();
        // The codec endpoints answer the Temporal UI's origins (trellis.temporal.codec.cors.origins) from the browser.
        return new ApiService(ApiServer.start(address, new TrellisApi(runtime, metrics).routes(), authenticator, metrics, threads,
                new CorsPolicy("/codec/", runtime.config().codecCorsOrigins())));
    }

    public ApiServer server() {
        return server;
    }

    @Override
    public void close() {
        server.close();
    }
}
