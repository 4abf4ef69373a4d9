package io.trellis.activities.artifacts;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * Where and how the S3 artifact store talks to S3: the {@code s3://bucket/prefix} root, an optional custom
 * endpoint (an S3-compatible store), path-style addressing, the region and server-side encryption.
 * Credentials are not here on purpose: they come only from the AWS SDK's default provider chain.
 *
 * @param sse {@link Sse#NONE}, {@link Sse#AES256} (SSE-S3) or {@link Sse#KMS} with an optional key id
 */
public record S3Settings(String bucket, String prefix, Optional<URI> endpoint, boolean pathStyle, String region,
                         Sse sse, Optional<String> kmsKeyId, long multipartThresholdBytes, long partSizeBytes) {

    /** S3 refuses multipart parts under 5 MiB (except the last). */
    public static final long MIN_PART_SIZE = 5L * 1024 * 1024;

    public enum Sse { NONE, AES256, KMS }

    public S3Settings {
        if (partSizeBytes < MIN_PART_SIZE) {
            throw new IllegalArgumentException("multipart part size must be at least 5 MiB, got " + partSizeBytes);
        }
        if (multipartThresholdBytes < partSizeBytes) {
            throw new IllegalArgumentException("multipart threshold must be at least the part size");
        }
    }

    public static boolean isS3Uri(String root) {
        return root.startsWith("s3://");
    }

    /**
     * Parses the artifact root and the S3 settings as written in the configuration; every malformed value
     * is an {@code INVALID_REQUEST} naming the setting.
     *
     * @param sse empty or {@code none}, {@code AES256}, {@code aws:kms} or {@code aws:kms:<key id or ARN>}
     */
    public static S3Settings parse(String root, Optional<String> endpoint, boolean pathStyle, String region, String sse) {
        URI uri;
        try {
            uri = new URI(root);
        } catch (URISyntaxException e) {
            throw invalid("trellis.artifact.root", root, "is not a valid URI: " + e.getMessage());
        }
        String bucket = uri.getHost();
        if (!"s3".equals(uri.getScheme()) || bucket == null || bucket.isBlank()) {
            throw invalid("trellis.artifact.root", root, "must look like s3://bucket/prefix (a bucket name is required)");
        }
        String prefix = Optional.ofNullable(uri.getPath()).orElse("").replaceAll("^/+", "").replaceAll("/+$", "");
        Optional<URI> ep = endpoint.map(e -> {
            try {
                URI u = new URI(e);
                if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null) {
                    throw invalid("trellis.s3.endpoint", e, "must be an http:// or https:// URL with a host, e.g. http://minio:9000");
                }
                return u;
            } catch (URISyntaxException x) {
                throw invalid("trellis.s3.endpoint", e, "is not a valid URL: " + x.getMessage());
            }
        });
        String s = sse == null ? "" : sse.trim();
        Sse mode;
        Optional<String> key = Optional.empty();
        if (s.isEmpty() || s.equalsIgnoreCase("none")) {
            mode = Sse.NONE;
        } else if (s.equalsIgnoreCase("AES256")) {
            mode = Sse.AES256;
        } else if (s.toLowerCase(Locale.ROOT).startsWith("aws:kms")) {
            mode = Sse.KMS;
            String rest = s.substring("aws:kms".length());
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":") || rest.length() == 1) {
                    throw invalid("trellis.s3.sse", s, "must be none, AES256, aws:kms or aws:kms:<key id>");
                }
                key = Optional.of(rest.substring(1));
            }
        } else {
            throw invalid("trellis.s3.sse", s, "must be none, AES256, aws:kms or aws:kms:<key id>");
        }
        return new S3Settings(bucket, prefix, ep, pathStyle, region, mode, key, 64L * 1024 * 1024, 16L * 1024 * 1024);
    }

    /** The same settings with other multipart sizes (tests use the 5 MiB minimum). */
    public S3Settings withMultipart(long thresholdBytes, long partBytes) {
        return new S3Settings(bucket, prefix, endpoint, pathStyle, region, sse, kmsKeyId, thresholdBytes, partBytes);
    }

    private static TrellisException invalid(String setting, String value, String what) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, setting + " (" + setting.toUpperCase(Locale.ROOT).replace('.', '_')
                + ") '" + value + "' " + what);
    }
}
