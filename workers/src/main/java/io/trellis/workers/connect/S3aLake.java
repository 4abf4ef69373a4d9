package io.trellis.workers.connect;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;

/**
 * The Delta lake on {@code s3a://bucket/prefix}: the S3A settings the Spark session needs, derived from the same
 * {@code trellis.s3.*} settings as the S3 artifact store (endpoint, path style, region). Credentials are not here
 * on purpose: S3A is told to use the AWS SDK's default provider chain (environment, system properties, profile,
 * web identity, container or instance role), so no key ever passes through Trellis' configuration or logs.
 */
public record S3aLake(String bucket, Optional<URI> endpoint, boolean pathStyle, String region) {
    /** S3A's credential provider setting: an AWS SDK v2 provider class with a static {@code create()}. */
    public static final String DEFAULT_CREDENTIALS_CHAIN = "software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider";

    public static boolean isS3a(String lakeRoot) {
        return lakeRoot.startsWith("s3a://");
    }

    /** Parses the lake root and the S3 settings; malformed values are {@code INVALID_REQUEST} errors naming the setting. */
    public static S3aLake parse(String lakeRoot, Optional<String> endpoint, boolean pathStyle, String region) {
        String bucket;
        try {
            bucket = new URI(lakeRoot).getHost();
        } catch (URISyntaxException e) {
            throw invalid("trellis.lake.root", lakeRoot, "is not a valid URI: " + e.getMessage());
        }
        if (bucket == null || bucket.isBlank()) {
            throw invalid("trellis.lake.root", lakeRoot, "must look like s3a://bucket/prefix (a bucket name is required)");
        }
        Optional<URI> ep = endpoint.map(e -> {
            URI u;
            try {
                u = new URI(e);
            } catch (URISyntaxException x) {
                throw invalid("trellis.s3.endpoint", e, "is not a valid URL: " + x.getMessage());
            }
            if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null) {
                throw invalid("trellis.s3.endpoint", e, "must be an http:// or https:// URL with a host, e.g. http://minio:9000");
            }
            return u;
        });
        return new S3aLake(bucket, ep, pathStyle, region);
    }

    /** The Hadoop settings (without the {@code spark.hadoop.} prefix) that point S3A at the lake's store. */
    public Map<String, String> hadoopOptions() {
        Map<String, String> m = new LinkedHashMap<>();
        endpoint.ifPresent(e -> {
            m.put("fs.s3a.endpoint", e.toString());
            m.put("fs.s3a.connection.ssl.enabled", Boolean.toString(e.getScheme().equals("https")));
        });
        m.put("fs.s3a.path.style.access", Boolean.toString(pathStyle));
        m.put("fs.s3a.endpoint.region", region);
        m.put("fs.s3a.aws.credentials.provider", DEFAULT_CREDENTIALS_CHAIN);
        return m;
    }

    /**
     * Sets the options on the session's Hadoop configuration, which every Delta and file access of the session
     * copies; works for a session that already existed (a shared one in tests) as long as nothing has opened an
     * {@code s3a://} file system in it yet (S3A caches file systems per bucket).
     */
    public void applyTo(SparkSession spark) {
        var hadoop = spark.sparkContext().hadoopConfiguration();
        hadoopOptions().forEach(hadoop::set);
    }

    private static TrellisException invalid(String setting, String value, String what) {
        return new TrellisException(ErrorCode.INVALID_REQUEST, setting + " (" + setting.toUpperCase(Locale.ROOT).replace('.', '_')
                + ") '" + value + "' " + what);
    }
}
