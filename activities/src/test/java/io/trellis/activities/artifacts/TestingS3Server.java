package io.trellis.activities.artifacts;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A real S3-compatible server for tests: S3Proxy (filesystem backend, SigV4 enforced) started as its own
 * process on 127.0.0.1 with a port the OS picks. Its own JVM keeps its Jackson away from Spark's.
 * The jar is copied to {@code target/s3proxy/} by the build (see the module's pom).
 */
public final class TestingS3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "trellis-test-access";
    public static final String SECRET_KEY = "trellis-test-secret-do-not-log";
    private static final Pattern LISTENING = Pattern.compile("ServerConnector@\\S*\\{HTTP/1\\.1[^}]*\\}\\{127\\.0\\.0\\.1:(\\d+)\\}");

    private final Process process;
    private final URI endpoint;

    private TestingS3Server(Process process, URI endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    public static TestingS3Server start(Path workDir) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("trellis.s3proxy.jar", "target/s3proxy/s3proxy.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Proxy jar not found at " + jar + "; run the build's generate-test-resources phase");
        }
        Path data = Files.createDirectories(workDir.resolve("s3-data"));
        Path props = workDir.resolve("s3proxy.properties");
        Files.writeString(props, String.join("\n",
                "s3proxy.endpoint=http://127.0.0.1:0",
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + data,
                ""));
        Path logFile = workDir.resolve("s3proxy.log");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(List.of(javaBin, "-Xmx256m", "-jar", jar.toString(), "--properties", props.toString()))
                .redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            if (!p.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with " + p.exitValue() + ":\n" + Files.readString(logFile));
            }
            Matcher m = LISTENING.matcher(Files.exists(logFile) ? Files.readString(logFile) : "");
            if (m.find()) {
                return new TestingS3Server(p, URI.create("http://127.0.0.1:" + m.group(1)));
            }
            Thread.onSpinWait();
            p.waitFor(50, TimeUnit.MILLISECONDS);
        }
        p.destroyForcibly();
        throw new IllegalStateException("S3Proxy did not start within 60 s:\n" + Files.readString(logFile));
    }

    public URI endpoint() {
        return endpoint;
    }

    /** A plain client with the server's credentials, for setting up buckets and tampering with objects. */
    public S3Client client() {
        return S3Client.builder().endpointOverride(endpoint).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
