package io.trellis.activities.artifacts;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/**
 * Artifacts in S3 (or an S3-compatible store) through the AWS SDK v2.
 *
 * <p>Layout under {@code s3://bucket/prefix/<key>/}: the files of each {@link #put} go under a fresh
 * generation {@code g-<uuid>/}, then a {@code MANIFEST} object listing that generation and every file with
 * its size and SHA-256 is written last. A single PUT replaces an S3 object atomically, so readers see the old
 * manifest or the new one, never half a directory; a crashed upload leaves only an unreferenced generation,
 * which the next put of the key deletes. Files at or above the multipart threshold are uploaded in parts.
 *
 * <p>{@link #fetch} downloads into a local cache folder named by the artifact's SHA-256 (Spark loads local
 * paths), checking every file against the manifest and the whole directory against the recorded checksum;
 * any difference is {@code ARTIFACT_CHECKSUM_MISMATCH}.
 *
 * <p>Credentials come only from the SDK's default provider chain (environment, system properties, profile,
 * web identity, container or instance role); they are never read, printed or logged here.
 */
public final class S3ArtifactStore implements ArtifactStore, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(S3ArtifactStore.class);
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    static final String MANIFEST = "MANIFEST";
    private static final String MANIFEST_HEADER = "trellis-artifact-manifest 1";

    private final S3Client s3;
    private final S3Settings settings;
    private final Path cacheRoot;
    private final String where;

    private S3ArtifactStore(S3Client s3, S3Settings settings, Path cacheRoot) {
        this.s3 = s3;
        this.settings = settings;
        this.cacheRoot = cacheRoot.toAbsolutePath().normalize();
        this.where = "s3://" + settings.bucket() + (settings.prefix().isEmpty() ? "" : "/" + settings.prefix())
                + settings.endpoint().map(e -> " at " + e).orElse("");
        try {
            Files.createDirectories(this.cacheRoot);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the artifact cache " + this.cacheRoot, e);
        }
    }

    /** A store whose client takes credentials from the AWS SDK's default provider chain. */
    public static S3ArtifactStore connect(S3Settings settings, Path cacheRoot) {
        return connect(settings, cacheRoot, DefaultCredentialsProvider.builder().build(), b -> { });
    }

    /** For tests: another credentials provider, and access to the client builder (request interceptors). */
    static S3ArtifactStore connect(S3Settings settings, Path cacheRoot, AwsCredentialsProvider credentials,
                                   java.util.function.Consumer<S3ClientBuilder> customize) {
        S3ClientBuilder b = S3Client.builder()
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                .httpClientBuilder(ApacheHttpClient.builder());
        settings.endpoint().ifPresent(b::endpointOverride);
        customize.accept(b);
        return new S3ArtifactStore(b.build(), settings, cacheRoot);
    }

    public S3Settings settings() {
        return settings;
    }

    @Override
    public ArtifactRef put(String key, Path localDirectory) {
        if (!KEY.matcher(key).matches() || key.contains("..")) {
            throw new IllegalArgumentException("invalid artifact key '" + key + "'");
        }
        String base = objectKey(key) + "/";
        String generation = "g-" + UUID.randomUUID();
        try {
            DirectoryChecksum.Result sum = DirectoryChecksum.of(localDirectory);
            List<Path> files;
            try (Stream<Path> walk = Files.walk(localDirectory)) {
                files = walk.filter(Files::isRegularFile).sorted().toList();
            }
            StringBuilder manifest = new StringBuilder(MANIFEST_HEADER).append('\n')
                    .append("generation ").append(generation).append('\n')
                    .append("sha256 ").append(sum.sha256()).append('\n')
                    .append("bytes ").append(sum.bytes()).append('\n');
            for (Path f : files) {
                String rel = localDirectory.relativize(f).toString().replace('\\', '/');
                long size = Files.size(f);
                upload(base + generation + "/" + rel, f, size);
                manifest.append("file ").append(sha256(f)).append(' ').append(size).append(' ').append(rel).append('\n');
            }
            // The manifest goes last: until it lands, readers still see the previous generation (or nothing).
            s3.putObject(withSse(PutObjectRequest.builder().bucket(settings.bucket()).key(base + MANIFEST)
                            .contentType("text/plain; charset=utf-8")).build(),
                    RequestBody.fromString(manifest.toString(), StandardCharsets.UTF_8));
            deleteOtherGenerations(base, generation);
            return new ArtifactRef("s3://" + settings.bucket() + "/" + base, sum.sha256(), sum.bytes());
        } catch (SdkException e) {
            throw failure("store artifact " + key, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read artifact directory " + localDirectory + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Path fetch(ArtifactRef ref) {
        URI uri = URI.create(ref.uri());
        if (!"s3".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("not an S3 artifact: " + ref.uri());
        }
        String bucket = uri.getHost();
        String base = uri.getPath().replaceAll("^/+", "");
        Path cached = cacheRoot.resolve(ref.sha256());
        if (Files.isDirectory(cached) && DirectoryChecksum.of(cached).sha256().equals(ref.sha256())) {
            return cached;
        }
        Manifest manifest = readManifest(bucket, base, ref);
        if (!manifest.sha256().equals(ref.sha256())) {
            throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH, "artifact " + ref.uri() + " now holds checksum "
                    + manifest.sha256() + " but " + ref.sha256() + " was recorded when it was stored; it was replaced or"
                    + " damaged, so it will not be used. Retrain the model or restore the artifact from a backup.");
        }
        Path staging = cacheRoot.resolve(".download-" + UUID.randomUUID());
        try {
            for (Manifest.Entry f : manifest.files()) {
                Path dest = staging.resolve(f.path()).normalize();
                if (!dest.startsWith(staging)) {
                    throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH, "artifact " + ref.uri()
                            + " has a manifest entry outside the artifact: " + f.path());
                }
                Files.createDirectories(dest.getParent());
                String sha;
                try (InputStream in = s3.getObject(b -> b.bucket(bucket).key(base + manifest.generation() + "/" + f.path()),
                        ResponseTransformer.toInputStream()); OutputStream out = Files.newOutputStream(dest)) {
                    sha = copyHashing(in, out);
                }
                if (!sha.equals(f.sha256()) || Files.size(dest) != f.size()) {
                    throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH, "artifact " + ref.uri() + ": file "
                            + f.path() + " has checksum " + sha + " (" + Files.size(dest) + " bytes) but the manifest records "
                            + f.sha256() + " (" + f.size() + " bytes); it was modified or damaged in the store, so it will"
                            + " not be used. Retrain the model or restore the artifact from a backup.");
                }
            }
            Files.createDirectories(staging);
            DirectoryChecksum.Result sum = DirectoryChecksum.of(staging);
            if (!sum.sha256().equals(ref.sha256())) {
                throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH, "artifact " + ref.uri() + " has checksum "
                        + sum.sha256() + " but " + ref.sha256() + " was recorded when it was stored; it was modified or"
                        + " damaged, so it will not be used. Retrain the model or restore the artifact from a backup.");
            }
            if (Files.isDirectory(cached) && DirectoryChecksum.of(cached).sha256().equals(ref.sha256())) {
                return cached; // a concurrent fetch of the same artifact finished first; never delete a copy in use
            }
            LocalArtifactStore.deleteTree(cached); // a damaged cache entry
            try {
                Files.move(staging, cached, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
                // another fetch of the same artifact won the race: its copy has the same checksum
                LocalArtifactStore.deleteTree(staging);
            }
            return cached;
        } catch (SdkException e) {
            throw failure("fetch artifact " + ref.uri(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write artifact " + ref.uri() + " to the cache " + cacheRoot + ": " + e.getMessage(), e);
        } finally {
            try {
                LocalArtifactStore.deleteTree(staging);
            } catch (IOException ignored) {
                // a leftover download folder is never used: cache entries are named by checksum
            }
        }
    }

    @Override
    public long delete(ArtifactRef ref) {
        URI uri = URI.create(ref.uri());
        if (!"s3".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("not an S3 artifact: " + ref.uri());
        }
        String bucket = uri.getHost();
        String base = uri.getPath().replaceAll("^/+", "");
        if (base.isEmpty() || !base.endsWith("/")) {
            throw new IllegalArgumentException("artifact " + ref.uri() + " does not name an artifact folder; not deleting it");
        }
        long bytes = 0;
        try {
            // The manifest first: from then on readers see no artifact rather than a partial one.
            s3.deleteObject(b -> b.bucket(bucket).key(base + MANIFEST));
            String continuation = null;
            do {
                ListObjectsV2Request.Builder list = ListObjectsV2Request.builder().bucket(bucket).prefix(base);
                if (continuation != null) {
                    list.continuationToken(continuation);
                }
                var page = s3.listObjectsV2(list.build());
                for (S3Object o : page.contents()) {
                    s3.deleteObject(b -> b.bucket(bucket).key(o.key()));
                    bytes += o.size();
                }
                continuation = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
            } while (continuation != null);
        } catch (SdkException e) {
            throw failure("delete artifact " + ref.uri(), e);
        }
        LocalArtifactStore.deleteQuietlyFromCache(cacheRoot.resolve(ref.sha256()));
        return bytes;
    }

    @Override
    public void close() {
        s3.close();
    }

    private String objectKey(String key) {
        return settings.prefix().isEmpty() ? key : settings.prefix() + "/" + key;
    }

    private void upload(String objectKey, Path file, long size) throws IOException {
        if (size < settings.multipartThresholdBytes()) {
            s3.putObject(withSse(PutObjectRequest.builder().bucket(settings.bucket()).key(objectKey)).build(), RequestBody.fromFile(file));
            return;
        }
        CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder().bucket(settings.bucket()).key(objectKey);
        switch (settings.sse()) {
            case AES256 -> create.serverSideEncryption(ServerSideEncryption.AES256);
            case KMS -> {
                create.serverSideEncryption(ServerSideEncryption.AWS_KMS);
                settings.kmsKeyId().ifPresent(create::ssekmsKeyId);
            }
            case NONE -> { }
        }
        String uploadId = s3.createMultipartUpload(create.build()).uploadId();
        try (InputStream in = Files.newInputStream(file)) {
            List<CompletedPart> parts = new ArrayList<>();
            byte[] buf = new byte[(int) settings.partSizeBytes()];
            for (int part = 1; ; part++) {
                int n = in.readNBytes(buf, 0, buf.length);
                if (n == 0) {
                    break;
                }
                int partNumber = part;
                String etag = s3.uploadPart(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId)
                        .partNumber(partNumber).contentLength((long) n), RequestBody.fromBytes(java.util.Arrays.copyOf(buf, n))).eTag();
                parts.add(CompletedPart.builder().partNumber(partNumber).eTag(etag).build());
            }
            s3.completeMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId)
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()));
        } catch (IOException | RuntimeException e) {
            try {
                s3.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId));
            } catch (SdkException abort) {
                e.addSuppressed(abort);
            }
            throw e;
        }
    }

    private PutObjectRequest.Builder withSse(PutObjectRequest.Builder b) {
        switch (settings.sse()) {
            case AES256 -> b.serverSideEncryption(ServerSideEncryption.AES256);
            case KMS -> {
                b.serverSideEncryption(ServerSideEncryption.AWS_KMS);
                settings.kmsKeyId().ifPresent(b::ssekmsKeyId);
            }
            case NONE -> { }
        }
        return b;
    }

    private void deleteOtherGenerations(String base, String keep) {
        try {
            String continuation = null;
            do {
                ListObjectsV2Request.Builder list = ListObjectsV2Request.builder().bucket(settings.bucket()).prefix(base);
                if (continuation != null) {
                    list.continuationToken(continuation);
                }
                var page = s3.listObjectsV2(list.build());
                for (S3Object o : page.contents()) {
                    String rest = o.key().substring(base.length());
                    if (!rest.equals(MANIFEST) && !rest.startsWith(keep + "/")) {
                        s3.deleteObject(b -> b.bucket(settings.bucket()).key(o.key()));
                    }
                }
                continuation = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
            } while (continuation != null);
        } catch (SdkException e) {
            // The new manifest is in place; old generations are unreferenced and the next put retries the cleanup.
            log.warn("could not delete superseded files under s3://{}/{}: {}", settings.bucket(), base, e.getMessage());
        }
    }

    private Manifest readManifest(String bucket, String base, ArtifactRef ref) {
        String text;
        try {
            text = s3.getObjectAsBytes(b -> b.bucket(bucket).key(base + MANIFEST)).asUtf8String();
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && !"NoSuchBucket".equals(code(e))) {
                throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH, "artifact " + ref.uri()
                        + " is missing from the artifact store (no " + MANIFEST + " object at s3://" + bucket + "/" + base
                        + MANIFEST + "); it was deleted, never finished uploading, or the store root moved");
            }
            throw failure("fetch artifact " + ref.uri(), e);
        } catch (SdkException e) {
            throw failure("fetch artifact " + ref.uri(), e);
        }
        return Manifest.parse(text, ref.uri());
    }

    private TrellisException failure(String action, SdkException e) {
        if (e instanceof S3Exception s) {
            String code = code(s);
            if ("NoSuchBucket".equals(code)) {
                return new TrellisException(ErrorCode.INVALID_REQUEST, "cannot " + action + ": bucket '" + settings.bucket()
                        + "' does not exist (" + where + "); create it or fix trellis.artifact.root (TRELLIS_ARTIFACT_ROOT)", e);
            }
            if (s.statusCode() == 403 || s.statusCode() == 401) {
                return new TrellisException(ErrorCode.INVALID_REQUEST, "cannot " + action + ": S3 refused access (" + code + ", HTTP "
                        + s.statusCode() + ", " + where + "). Credentials come from the AWS SDK's default provider chain"
                        + " (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, container or instance role);"
                        + " check that they are set and allowed to read and write the bucket", e);
            }
            if (s.statusCode() == 501) {
                return new TrellisException(ErrorCode.INVALID_REQUEST, "cannot " + action + ": the store does not implement"
                        + " this request (HTTP 501 " + code + ", " + where + "); S3-compatible stores often lack server-side"
                        + " encryption: check trellis.s3.sse (TRELLIS_S3_SSE, now " + settings.sse() + ")", e);
            }
            if (s.statusCode() >= 500 || s.statusCode() == 429) {
                return new TrellisException(ErrorCode.TRANSIENT, "cannot " + action + ": S3 answered HTTP " + s.statusCode()
                        + " (" + code + ", " + where + "); will retry", e);
            }
            return new TrellisException(ErrorCode.INVALID_REQUEST, "cannot " + action + ": S3 answered HTTP " + s.statusCode()
                    + " (" + code + ", " + where + ")", e);
        }
        if (e instanceof SdkClientException && e.getMessage() != null && e.getMessage().contains("credentials")) {
            return new TrellisException(ErrorCode.INVALID_REQUEST, "cannot " + action + ": no AWS credentials found. Set them for the"
                    + " AWS SDK's default provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity,"
                    + " container or instance role)", e);
        }
        return new TrellisException(ErrorCode.TRANSIENT, "cannot " + action + ": S3 is unreachable (" + where + "): "
                + rootMessage(e) + ". Check trellis.s3.endpoint (TRELLIS_S3_ENDPOINT), trellis.s3.region and the network;"
                + " the step is retried", e);
    }

    private static String code(S3Exception e) {
        return e.awsErrorDetails() == null ? "" : String.valueOf(e.awsErrorDetails().errorCode());
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    private static String sha256(Path f) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            return copyHashing(in, OutputStream.nullOutputStream());
        }
    }

    private static String copyHashing(InputStream in, OutputStream out) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            try (DigestInputStream d = new DigestInputStream(in, md)) {
                d.transferTo(out);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The manifest object: which generation holds the files, and each file's SHA-256, size and relative path. */
    record Manifest(String generation, String sha256, long bytes, List<Entry> files) {
        record Entry(String sha256, long size, String path) {}

        static Manifest parse(String text, String uri) {
            String[] lines = text.split("\n");
            try {
                if (!lines[0].equals(MANIFEST_HEADER)) {
                    throw new IllegalArgumentException("unknown header");
                }
                String generation = value(lines[1], "generation");
                String sha = value(lines[2], "sha256");
                long bytes = Long.parseLong(value(lines[3], "bytes"));
                List<Entry> files = new ArrayList<>();
                for (int i = 4; i < lines.length; i++) {
                    String[] p = value(lines[i], "file").split(" ", 3);
                    files.add(new Entry(p[0], Long.parseLong(p[1]), p[2]));
                }
                return new Manifest(generation, sha, bytes, files);
            } catch (RuntimeException e) {
                throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH, "artifact " + uri + " has an unreadable "
                        + MANIFEST + " (" + e.getMessage() + "); it was modified or damaged, so it will not be used", e);
            }
        }

        private static String value(String line, String name) {
            if (!line.startsWith(name + " ")) {
                throw new IllegalArgumentException("expected '" + name + " …', got '" + line + "'");
            }
            return line.substring(name.length() + 1);
        }
    }
}
