package io.trellis.workers.connect;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLException;

/**
 * TLS to an external PostgreSQL: the driver's {@code sslmode} and the root certificate that signed the server's
 * certificate, added to the JDBC URL so the pool and the migrations use them alike. {@code verify-full} (the
 * certificate chains to the root and names the host) is the mode to use across a network; {@code require}
 * encrypts without checking who answers.
 */
public record DatabaseTls(Optional<String> sslMode, Optional<Path> rootCert) {
    public static final DatabaseTls NONE = new DatabaseTls(Optional.empty(), Optional.empty());
    private static final Set<String> MODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    public static DatabaseTls of(Optional<String> sslMode, Optional<Path> rootCert) {
        Optional<String> mode = sslMode.map(m -> m.toLowerCase(Locale.ROOT));
        if (mode.isPresent() && !MODES.contains(mode.get())) {
            throw invalid("trellis.db.sslmode (TRELLIS_DB_SSLMODE) must be one of disable, allow, prefer, require, verify-ca,"
                    + " verify-full; got '" + sslMode.get() + "'");
        }
        if (rootCert.isPresent() && !Files.isReadable(rootCert.get())) {
            throw invalid("trellis.db.sslrootcert (TRELLIS_DB_SSLROOTCERT) names " + rootCert.get() + ", which is not a readable file");
        }
        if (rootCert.isPresent() && mode.isEmpty()) {
            mode = Optional.of("verify-full"); // a root certificate is given to be checked against
        }
        return new DatabaseTls(mode, rootCert);
    }

    public boolean configured() {
        return sslMode.isPresent();
    }

    /** The JDBC URL with {@code sslmode} and {@code sslrootcert} added; a URL that sets them itself is refused. */
    public String applyTo(String jdbcUrl) {
        if (!configured()) {
            return jdbcUrl;
        }
        String lower = jdbcUrl.toLowerCase(Locale.ROOT);
        if (lower.contains("sslmode=") || lower.contains("sslrootcert=")) {
            throw invalid("trellis.jdbc.url already sets sslmode or sslrootcert; set TLS either in the URL or through"
                    + " trellis.db.sslmode / trellis.db.sslrootcert, not both");
        }
        StringBuilder url = new StringBuilder(jdbcUrl).append(jdbcUrl.contains("?") ? '&' : '?');
        url.append("sslmode=").append(sslMode.get());
        rootCert.ifPresent(c -> url.append("&sslrootcert=").append(URLEncoder.encode(c.toAbsolutePath().toString(), StandardCharsets.UTF_8)));
        return url.toString();
    }

    /**
     * A TLS failure while connecting, as an error that says which setting to check; anything else is returned as
     * it was. The driver reports a certificate it cannot verify as an SSL error, a name mismatch through its
     * host name verifier, and a server without TLS plainly.
     */
    public RuntimeException explain(RuntimeException failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            boolean tlsProblem = t instanceof SSLException
                    || (t instanceof SQLException && (message.startsWith("SSL error") || message.contains("hostnameverifier")
                        || message.contains("could not be verified") || message.contains("does not support SSL")));
            if (tlsProblem) {
                return new TrellisException(ErrorCode.INVALID_REQUEST, "cannot open a TLS connection to PostgreSQL (sslmode "
                        + sslMode.orElse("(driver default)") + rootCert.map(c -> ", root certificate " + c).orElse("") + "): " + message
                        + ". Check that trellis.db.sslrootcert (TRELLIS_DB_SSLROOTCERT) is the CA that signed the server's"
                        + " certificate, that the certificate names the host in trellis.jdbc.url, and that the server has ssl=on", failure);
            }
        }
        return failure;
    }

    private static TrellisException invalid(String what) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, what);
    }
}
