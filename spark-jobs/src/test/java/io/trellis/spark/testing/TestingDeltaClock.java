package io.trellis.spark.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.delta.DeltaLog;

/**
 * Ages a local Delta table: rewrites the times in its commit files (commit timestamps, add modification times, remove
 * deletion timestamps) and the files' modification times so that commit {@code v} of {@code n} happened
 * {@code (n - v) * step} ago. Delta's VACUUM works in whole hours, so a test that wants it to tell versions written
 * minutes apart needs them hours apart; this is the "small golden table" for that. Local file tables only; checksum
 * files are dropped (Delta recomputes what it needs), and the process's cached snapshot of the table is invalidated.
 */
public final class TestingDeltaClock {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TestingDeltaClock() {}

    public static void age(String tablePath, Duration step) {
        Path table = tablePath.startsWith("file:") ? Path.of(URI.create(tablePath.replaceFirst("^file:/+", "file:///"))) : Path.of(tablePath);
        Path log = table.resolve("_delta_log");
        try {
            List<Path> commits;
            try (Stream<Path> s = Files.list(log)) {
                commits = s.filter(p -> p.getFileName().toString().matches("\\d{20}\\.json")).sorted().toList();
            }
            try (Stream<Path> s = Files.list(log)) {
                for (Path crc : s.filter(p -> p.getFileName().toString().endsWith(".crc")).toList()) {
                    Files.delete(crc);
                }
            }
            int n = commits.size();
            Instant now = Instant.now();
            for (int v = 0; v < n; v++) {
                long at = now.minus(step.multipliedBy(n - v)).toEpochMilli();
                List<String> out = new ArrayList<>();
                for (String line : Files.readAllLines(commits.get(v), StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    ObjectNode action = (ObjectNode) JSON.readTree(line);
                    shift(action, "commitInfo", "timestamp", at);
                    shift(action, "commitInfo", "inCommitTimestamp", at);
                    shift(action, "add", "modificationTime", at);
                    shift(action, "remove", "deletionTimestamp", at);
                    JsonNode add = action.get("add");
                    if (add != null) {
                        Path data = table.resolve(java.net.URLDecoder.decode(add.get("path").asText(), StandardCharsets.UTF_8));
                        if (Files.exists(data)) {
                            Files.setLastModifiedTime(data, FileTime.fromMillis(at));
                        }
                    }
                    out.add(JSON.writeValueAsString(action));
                }
                Files.write(commits.get(v), out, StandardCharsets.UTF_8);
                Files.setLastModifiedTime(commits.get(v), FileTime.fromMillis(at));
                Path hiddenCrc = commits.get(v).resolveSibling("." + commits.get(v).getFileName() + ".crc");
                Files.deleteIfExists(hiddenCrc);
            }
            DeltaLog.clearCache();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot age " + tablePath, e);
        }
    }

    private static void shift(ObjectNode action, String kind, String field, long at) {
        JsonNode node = action.get(kind);
        if (node instanceof ObjectNode o && o.has(field)) {
            o.put(field, at);
        }
    }

    /** For messages: the commit file name of a version. */
    static String commitFile(long version) {
        return String.format(Locale.ROOT, "%020d.json", version);
    }
}
