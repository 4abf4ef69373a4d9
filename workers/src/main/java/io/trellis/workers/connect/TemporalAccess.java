package io.trellis.workers.connect;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * How to reach an external Temporal cluster securely: TLS (with the system's trust store, or a CA bundle), a
 * client certificate for mutual TLS, an authority override when the certificate names another host, and an API
 * key (Temporal Cloud) sent as a bearer token. The API key is never printed by {@link #toString()}.
 *
 * @param clientCert PEM certificate chain of this client (mTLS); together with {@code clientKey}
 * @param clientKey  PEM PKCS#8 private key ({@code BEGIN PRIVATE KEY}) of the client certificate
 * @param caCert     PEM CA bundle that signed the server's certificate; empty: the JVM's default trust store
 * @param serverName the name to check the server's certificate against, when it differs from the address' host
 */
public record TemporalAccess(boolean tls, Optional<Path> clientCert, Optional<Path> clientKey, Optional<Path> caCert,
                             Optional<String> serverName, Optional<String> apiKey) {

    public static final TemporalAccess PLAINTEXT = new TemporalAccess(false, Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty());

    /**
     * Checks the combination and that the files exist; TLS is on when asked for or when any certificate is
     * configured. An API key needs TLS: it would otherwise travel in clear text.
     */
    public static TemporalAccess of(boolean tls, Optional<Path> clientCert, Optional<Path> clientKey, Optional<Path> caCert,
                                    Optional<String> serverName, Optional<String> apiKey) {
        if (clientCert.isPresent() != clientKey.isPresent()) {
            throw invalid("trellis.temporal.tls.cert and trellis.temporal.tls.key (TRELLIS_TEMPORAL_TLS_CERT, TRELLIS_TEMPORAL_TLS_KEY)"
                    + " go together: mutual TLS needs both the client certificate and its private key");
        }
        requireFile("trellis.temporal.tls.cert", clientCert);
        requireFile("trellis.temporal.tls.key", clientKey);
        requireFile("trellis.temporal.tls.ca", caCert);
        boolean on = tls || clientCert.isPresent() || caCert.isPresent();
        if (apiKey.isPresent() && !on) {
            throw invalid("trellis.temporal.api.key (TRELLIS_TEMPORAL_API_KEY) needs TLS, or the key would travel in clear text:"
                    + " set trellis.temporal.tls=true (TRELLIS_TEMPORAL_TLS=true)");
        }
        return new TemporalAccess(on, clientCert, clientKey, caCert, serverName, apiKey);
    }

    public boolean mutualTls() {
        return clientCert.isPresent();
    }

    /** Adds TLS, the client certificate and the API key to service stub options. */
    public WorkflowServiceStubsOptions.Builder configure(WorkflowServiceStubsOptions.Builder builder) {
        if (tls) {
            builder.setSslContext(sslContext());
            serverName.ifPresent(name -> builder.setChannelInitializer(channel -> channel.overrideAuthority(name)));
        }
        apiKey.ifPresent(key -> builder.addApiKey(() -> key));
        return builder;
    }

    /** The client TLS context; an unreadable or malformed certificate or key is an error naming the setting. */
    public SslContext sslContext() {
        SslContextBuilder ssl = GrpcSslContexts.forClient();
        try {
            if (clientCert.isPresent()) {
                ssl.keyManager(clientCert.get().toFile(), clientKey.get().toFile());
            }
        } catch (RuntimeException e) {
            throw invalid("trellis.temporal.tls.cert / trellis.temporal.tls.key (" + clientCert.get() + ", " + clientKey.get()
                    + ") cannot be used: " + rootMessage(e) + "; the certificate must be PEM and the key PEM PKCS#8 (BEGIN PRIVATE KEY;"
                    + " convert with `openssl pkcs8 -topk8 -nocrypt`)");
        }
        try {
            if (caCert.isPresent()) {
                ssl.trustManager(caCert.get().toFile());
            }
        } catch (RuntimeException e) {
            throw invalid("trellis.temporal.tls.ca (" + caCert.get() + ") is not a PEM certificate bundle: " + rootMessage(e));
        }
        try {
            return ssl.build();
        } catch (SSLException e) {
            throw invalid("the Temporal TLS settings cannot be used: " + rootMessage(e));
        }
    }

    private static void requireFile(String setting, Optional<Path> file) {
        if (file.isPresent() && !Files.isReadable(file.get())) {
            throw invalid(setting + " (" + setting.toUpperCase(java.util.Locale.ROOT).replace('.', '_') + ") names "
                    + file.get() + ", which is not a readable file");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    private static TrellisException invalid(String what) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, what);
    }

    /** Never prints the API key. */
    @Override
    public String toString() {
        return "TemporalAccess[tls=" + tls + ", clientCert=" + clientCert.map(Path::toString).orElse("(none)")
                + ", caCert=" + caCert.map(Path::toString).orElse("(system trust store)")
                + ", serverName=" + serverName.orElse("(from the address)") + ", apiKey=" + (apiKey.isPresent() ? "****" : "(none)") + "]";
    }
}
