package io.trellis.activities.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A SHA-256 over a directory tree: every regular file's relative path and content, in sorted path order,
 * so the same files give the same checksum wherever they are stored.
 */
public final class DirectoryChecksum {
    private DirectoryChecksum() {}

    public record Result(String sha256, long bytes) {}

    public static Result of(Path dir) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<Path> files;
            try (Stream<Path> walk = Files.walk(dir)) {
                files = walk.filter(Files::isRegularFile).sorted().toList();
            }
            long bytes = 0;
            byte[] buf = new byte[64 * 1024];
            for (Path f : files) {
                String rel = dir.relativize(f).toString().replace('\\', '/');
                md.update(rel.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                try (InputStream in = new DigestInputStream(Files.newInputStream(f), md)) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        bytes += n;
                    }
                }
                md.update((byte) 0);
            }
            return new Result(HexFormat.of().formatHex(md.digest()), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot checksum " + dir + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
