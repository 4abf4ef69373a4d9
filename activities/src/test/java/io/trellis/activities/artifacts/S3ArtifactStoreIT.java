package io.trellis.activities.artifacts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** The S3 artifact store against a real S3-compatible server (S3Proxy in its own process on loopback). */
class S3ArtifactStoreIT {
    private static final String BUCKET = "trellis-artifacts";
    private static final StaticCredentialsProvider CREDENTIALS = StaticCredentialsProvider.create(
            AwsBasicCredentials.create(TestingS3Server.ACCESS_KEY, TestingS3Server.SECRET_KEY));

    @TempDir
    static Path serverDir;
    @TempDir
    Path tmp;

    static TestingS3Server server;
    static S3Client admin;

    @BeforeAll
    static void startServer() throws Exception {
        server = TestingS3Server.start(serverDir);
        admin = server.client();
        admin.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (admin != null) {
            admin.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private S3Settings settings(String prefix, String sse) {
        return S3Settings.parse("s3://" + BUCKET + "/" + prefix, Optional.of(server.endpoint().toString()), true, "us-east-1", sse);
    }

    private S3ArtifactStore store(S3Settings settings, List<String> seen) {
        return S3ArtifactStore.connect(settings, tmp.resolve("cache-" + System.nanoTime()), CREDENTIALS, b -> b.overrideConfiguration(
                c -> c.addExecutionInterceptor(new ExecutionInterceptor() {
                    @Override
                    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                        String op = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
                        seen.add(op + " sse=" + context.httpRequest().firstMatchingHeader("x-amz-server-side-encryption").orElse("-")
                                + context.httpRequest().firstMatchingHeader("x-amz-server-side-encryption-aws-kms-key-id").map(k -> " kms=" + k).orElse(""));
                    }
                })));
    }

    private Path model(String name, String weights) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir.resolve("stages/0_lr/data"));
        Files.writeString(dir.resolve("metadata/part-00000"), "{\"class\":\"PipelineModel\"}", java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE);
        return model(dir, weights);
    }

    private static Path model(Path dir, String weights) throws Exception {
        Files.writeString(dir.resolve("stages/0_lr/data/part-00000.parquet"), weights);
        return dir;
    }

    @Test
    void storesAndFetchesADirectoryWithItsChecksum() throws Exception {
        Files.createDirectories(tmp.resolve("a/metadata"));
        Path dir = model("a", "weights-1");
        try (S3ArtifactStore store = store(settings("prod/models", ""), new CopyOnWriteArrayList<>())) {
            ArtifactRef ref = store.put("churn/runs/1", dir);

            assertThat(ref.uri()).isEqualTo("s3://" + BUCKET + "/prod/models/churn/runs/1/");
            assertThat(ref.sha256()).isEqualTo(DirectoryChecksum.of(dir).sha256());
            assertThat(ref.bytes()).isEqualTo("{\"class\":\"PipelineModel\"}".length() + "weights-1".length());
            Path fetched = store.fetch(ref);
            assertThat(Files.readString(fetched.resolve("stages/0_lr/data/part-00000.parquet"))).isEqualTo("weights-1");
            assertThat(Files.readString(fetched.resolve("metadata/part-00000"))).contains("PipelineModel");
            assertThat(DirectoryChecksum.of(fetched).sha256()).isEqualTo(ref.sha256());
        }
    }

    @Test
    void storingAKeyAgainReplacesItAndLeavesOnlyTheNewGeneration() throws Exception {
        Files.createDirectories(tmp.resolve("b/metadata"));
        Path dir = model("b", "first attempt");
        try (S3ArtifactStore store = store(settings("replace", ""), new CopyOnWriteArrayList<>())) {
            ArtifactRef first = store.put("m/runs/1", dir);
            ArtifactRef second = store.put("m/runs/1", model(dir, "second attempt"));

            assertThat(second.sha256()).isNotEqualTo(first.sha256());
            assertThat(Files.readString(store.fetch(second).resolve("stages/0_lr/data/part-00000.parquet"))).isEqualTo("second attempt");
            List<String> keys = admin.listObjectsV2(b -> b.bucket(BUCKET).prefix("replace/m/runs/1/")).contents().stream()
                    .map(S3Object::key).toList();
            assertThat(keys).hasSize(3).contains("replace/m/runs/1/MANIFEST");
            assertThat(keys.stream().filter(k -> k.contains("/g-")).map(k -> k.split("/")[4]).distinct()).hasSize(1);
            // the first attempt's reference now points at other content: refused, not silently loaded
            assertThatThrownBy(() -> store.fetch(first))
                    .isInstanceOf(TrellisException.class)
                    .hasMessageContaining("was replaced or damaged")
                    .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH));
        }
    }

    @Test
    void aFileTamperedWithInTheBucketIsRefusedOnFetch() throws Exception {
        Files.createDirectories(tmp.resolve("c/metadata"));
        Path dir = model("c", "weights");
        try (S3ArtifactStore store = store(settings("tamper", ""), new CopyOnWriteArrayList<>())) {
            ArtifactRef ref = store.put("m/runs/1", dir);
            String victim = admin.listObjectsV2(b -> b.bucket(BUCKET).prefix("tamper/m/runs/1/")).contents().stream()
                    .map(S3Object::key).filter(k -> k.endsWith("part-00000.parquet")).findFirst().orElseThrow();
            admin.putObject(b -> b.bucket(BUCKET).key(victim), RequestBody.fromString("weightz"));

            assertThatThrownBy(() -> store.fetch(ref))
                    .isInstanceOf(TrellisException.class)
                    .hasMessageContaining("file stages/0_lr/data/part-00000.parquet has checksum")
                    .hasMessageContaining("modified or damaged in the store")
                    .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH));
        }
    }

    private Path bigModel(String name, byte[] big) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.write(dir.resolve("weights.bin"), big);
        Files.writeString(dir.resolve("small.json"), "{}");
        return dir;
    }

    @Test
    void filesAboveTheThresholdGoUpInParts() throws Exception {
        byte[] big = new byte[6 * 1024 * 1024 + 12345];
        new Random(7).nextBytes(big);
        Path dir = bigModel("big", big);
        List<String> seen = new CopyOnWriteArrayList<>();
        S3Settings settings = settings("big", "").withMultipart(S3Settings.MIN_PART_SIZE, S3Settings.MIN_PART_SIZE);
        try (S3ArtifactStore store = store(settings, seen)) {
            ArtifactRef ref = store.put("m/runs/1", dir);

            assertThat(seen).containsSubsequence("CreateMultipartUpload sse=-", "UploadPart sse=-", "UploadPart sse=-",
                    "CompleteMultipartUpload sse=-");
            assertThat(seen.stream().filter(s -> s.startsWith("UploadPart"))).hasSize(2);
            assertThat(seen.stream().filter(s -> s.startsWith("PutObject"))).hasSize(2); // small.json and the manifest
            Path fetched = store.fetch(ref);
            assertThat(Files.readAllBytes(fetched.resolve("weights.bin"))).isEqualTo(big);
            assertThat(ref.bytes()).isEqualTo(big.length + 2);
        }
    }

    @Test
    void serverSideEncryptionIsRequestedOnEveryUploadAndAStoreWithoutItIsAClearError() throws Exception {
        // S3Proxy's filesystem backend answers 501 to SSE headers (real S3 honours them): the requests are
        // checked as they leave the client, and the refusal must say which setting to look at.
        byte[] big = new byte[(int) S3Settings.MIN_PART_SIZE + 1];
        Path small = Files.createDirectories(tmp.resolve("small"));
        Files.writeString(small.resolve("a.json"), "{}");
        Path onlyBig = Files.createDirectories(tmp.resolve("only-big"));
        Files.write(onlyBig.resolve("weights.bin"), big);
        for (String sse : List.of("AES256", "aws:kms:alias/trellis")) {
            List<String> seen = new CopyOnWriteArrayList<>();
            S3Settings settings = settings("sse", sse).withMultipart(S3Settings.MIN_PART_SIZE, S3Settings.MIN_PART_SIZE);
            String header = sse.startsWith("aws:kms") ? "aws:kms kms=alias/trellis" : "AES256";
            try (S3ArtifactStore store = store(settings, seen)) {
                assertThatThrownBy(() -> store.put("m/runs/1", small))
                        .hasMessageContaining("does not implement this request (HTTP 501")
                        .hasMessageContaining("trellis.s3.sse (TRELLIS_S3_SSE")
                        .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST));
                assertThatThrownBy(() -> store.put("m/runs/2", onlyBig)).isInstanceOf(TrellisException.class);
            }
            assertThat(seen).first().isEqualTo("PutObject sse=" + header);
            assertThat(seen).contains("CreateMultipartUpload sse=" + header);
            assertThat(seen).allSatisfy(s -> assertThat(s).endsWith("sse=" + header));
        }
    }

    @Test
    void anUnknownKeyIsAClearError() {
        try (S3ArtifactStore store = store(settings("unknown", ""), new CopyOnWriteArrayList<>())) {
            ArtifactRef ref = new ArtifactRef("s3://" + BUCKET + "/unknown/m/runs/404/", "0".repeat(64), 0);
            assertThatThrownBy(() -> store.fetch(ref))
                    .isInstanceOf(TrellisException.class)
                    .hasMessageContaining("artifact s3://" + BUCKET + "/unknown/m/runs/404/ is missing from the artifact store")
                    .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH));
        }
    }

    @Test
    void aMissingBucketWrongCredentialsAndABadEndpointAreClearErrorsThatNeverShowTheSecret() throws Exception {
        Files.createDirectories(tmp.resolve("d/metadata"));
        Path dir = model("d", "w");
        S3Settings noBucket = S3Settings.parse("s3://no-such-bucket/x", Optional.of(server.endpoint().toString()), true, "us-east-1", "");
        try (S3ArtifactStore store = store(noBucket, new CopyOnWriteArrayList<>())) {
            assertThatThrownBy(() -> store.put("m/runs/1", dir))
                    .hasMessageContaining("bucket 'no-such-bucket' does not exist")
                    .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        }
        var wrong = StaticCredentialsProvider.create(AwsBasicCredentials.create(TestingS3Server.ACCESS_KEY, "wrong-secret-value"));
        try (S3ArtifactStore store = S3ArtifactStore.connect(settings("x", ""), tmp.resolve("c2"), wrong, b -> { })) {
            assertThatThrownBy(() -> store.put("m/runs/1", dir))
                    .hasMessageContaining("S3 refused access")
                    .hasMessageContaining("default provider chain")
                    .hasMessageNotContaining("wrong-secret-value")
                    .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.INVALID_REQUEST));
        }
        int closedPort;
        try (var s = new java.net.ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        S3Settings badEndpoint = S3Settings.parse("s3://" + BUCKET + "/x", Optional.of("http://127.0.0.1:" + closedPort), true, "us-east-1", "");
        try (S3ArtifactStore store = store(badEndpoint, new CopyOnWriteArrayList<>())) {
            assertThatThrownBy(() -> store.put("m/runs/1", dir))
                    .hasMessageContaining("S3 is unreachable (s3://" + BUCKET + "/x at http://127.0.0.1:" + closedPort + ")")
                    .hasMessageContaining("trellis.s3.endpoint (TRELLIS_S3_ENDPOINT)")
                    .satisfies(e -> assertThat(((TrellisException) e).code()).isEqualTo(ErrorCode.TRANSIENT));
        }
    }

    @Test
    void theDefaultProviderChainSuppliesCredentials() throws Exception {
        Files.createDirectories(tmp.resolve("e/metadata"));
        Path dir = model("e", "chain");
        System.setProperty("aws.accessKeyId", TestingS3Server.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", TestingS3Server.SECRET_KEY);
        try (S3ArtifactStore store = S3ArtifactStore.connect(settings("chain", ""), tmp.resolve("c3"))) {
            ArtifactRef ref = store.put("m/runs/1", dir);
            assertThat(Files.readString(store.fetch(ref).resolve("stages/0_lr/data/part-00000.parquet"))).isEqualTo("chain");
        } finally {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
        }
    }

    @Test
    void deletingAnArtifactRemovesEveryObjectUnderItsFolderOnlyAndASecondDeleteIsHarmless() throws Exception {
        Files.createDirectories(tmp.resolve("del/metadata"));
        Path dir = model("del", "weights-to-purge");
        Files.createDirectories(tmp.resolve("keep/metadata"));
        Path other = model("keep", "weights-to-keep");
        try (S3ArtifactStore store = store(settings("retention", ""), new CopyOnWriteArrayList<>())) {
            ArtifactRef purged = store.put("m/runs/1", dir);
            // a neighbour whose key starts with the same characters ("1" / "10"): it must survive
            ArtifactRef neighbour = store.put("m/runs/10", other);
            store.fetch(purged); // leaves a cached copy, which must not answer a fetch after the delete
            List<S3Object> before = admin.listObjectsV2(b -> b.bucket(BUCKET).prefix("retention/m/runs/1/")).contents();
            long dataBytes = before.stream().filter(o -> !o.key().endsWith("/MANIFEST")).mapToLong(S3Object::size).sum();
            assertThat(before).hasSize(3);

            long freed = store.delete(purged);

            // the manifest goes first (not counted: it is not listed any more), then every data object
            assertThat(freed).isEqualTo(dataBytes).isEqualTo(purged.bytes());
            assertThat(admin.listObjectsV2(b -> b.bucket(BUCKET).prefix("retention/m/runs/1/")).contents()).isEmpty();
            assertThatThrownBy(() -> store.fetch(purged))
                    .isInstanceOfSatisfying(TrellisException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH))
                    .hasMessageContaining("artifact " + purged.uri() + " is missing from the artifact store")
                    .hasMessageContaining("s3://" + BUCKET + "/retention/m/runs/1/MANIFEST");
            // deleting again (a retried retention attempt) finds nothing and frees nothing
            assertThat(store.delete(purged)).isZero();
            assertThat(admin.listObjectsV2(b -> b.bucket(BUCKET).prefix("retention/m/runs/10/")).contents()).hasSize(3);
            assertThat(Files.readString(store.fetch(neighbour).resolve("stages/0_lr/data/part-00000.parquet"))).isEqualTo("weights-to-keep");
            // a reference that names no artifact folder is refused rather than deleting a whole prefix
            assertThatThrownBy(() -> store.delete(new ArtifactRef("s3://" + BUCKET + "/retention/m/runs", purged.sha256(), 0)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not name an artifact folder");
        }
    }
}
