package io.trellis.activities.artifacts;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import io.trellis.workflows.activities.ArtifactRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Artifacts as directories under a root folder (the embedded default: {@code ./trellis-data/artifacts}). */
public final class LocalArtifactStore implements ArtifactStore {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    private final Path root;

    public LocalArtifactStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create artifact store root " + this.root, e);
        }
    }

    public Path root() {
        return root;
    }

    @Override
    public ArtifactRef put(String key, Path localDirectory) {
        if (!KEY.matcher(key).matches() || key.contains("..")) {
            throw new IllegalArgumentException("invalid artifact key '" + key + "'");
        }
        Path target = root.resolve(key);
        Path staging = target.resolveSibling(target.getFileName() + ".staging-" + UUID.randomUUID());
        try {
            Files.createDirectories(target.getParent());
            copyTree(localDirectory, staging);
            DirectoryChecksum.Result sum = DirectoryChecksum.of(staging);
            // Replace atomically: readers see the old tree or the new one, never half of either.
            Path old = null;
            if (Files.exists(target)) {
                old = target.resolveSibling(target.getFileName() + ".old-" + UUID.randomUUID());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            if (old != null) {
                deleteTree(old);
            }
            return new ArtifactRef(target.toUri().toString(), sum.sha256(), sum.bytes());
        } catch (IOException e) {
            deleteQuietly(staging);
            throw new UncheckedIOException("cannot store artifact " + key + " in " + root + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Path fetch(ArtifactRef ref) {
        Path path = Path.of(java.net.URI.create(ref.uri()));
        if (!Files.isDirectory(path)) {
            throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH,
                    "artifact " + ref.uri() + " is missing from the artifact store; it was deleted or the store root moved");
        }
        DirectoryChecksum.Result sum = DirectoryChecksum.of(path);
        if (!sum.sha256().equals(ref.sha256())) {
            throw new TrellisException(ErrorCode.ARTIFACT_CHECKSUM_MISMATCH,
                    "artifact " + ref.uri() + " has checksum " + sum.sha256() + " but " + ref.sha256()
                            + " was recorded when it was stored; it was modified or damaged, so it will not be used."
                            + " Retrain the model or restore the artifact from a backup.");
        }
        return path;
    }

    @Override
    public long delete(ArtifactRef ref) {
        Path path = Path.of(java.net.URI.create(ref.uri())).toAbsolutePath().normalize();
        if (!path.startsWith(root) || path.equals(root)) {
            throw new IllegalArgumentException("artifact " + ref.uri() + " is not under the store root " + root + "; not deleting it");
        }
        if (!Files.exists(path)) {
            return 0;
        }
        try {
            long bytes;
            try (Stream<Path> walk = Files.walk(path)) {
                bytes = walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
            // Move aside first so readers never see half a tree, then delete.
            Path doomed = path.resolveSibling(path.getFileName() + ".deleting-" + UUID.randomUUID());
            Files.move(path, doomed, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(doomed);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete artifact " + ref.uri() + ": " + e.getMessage(), e);
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Drops a cached copy of a deleted artifact (best effort). */
    static void deleteQuietlyFromCache(Path dir) {
        deleteQuietly(dir);
    }

    private static void deleteQuietly(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException ignored) {
            // best effort: a leftover staging folder is invisible to readers
        }
    }
}
