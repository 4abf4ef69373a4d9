package io.trellis.spark.retention;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.SessionConfs;
import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Delta {@code VACUUM} with a horizon that keeps one version and every later one readable (time travel).
 *
 * <p>How Delta decides: VACUUM deletes a data file that the latest snapshot does not reference when its tombstone
 * (the {@code remove} action's {@code deletionTimestamp}) and its modification time are older than
 * {@code now - retention}. A file that version {@code k} reads is tombstoned only by a commit after {@code k}. So the
 * horizon is the earliest {@code deletionTimestamp} among the remove actions of commits {@code k+1 ..} latest (read from
 * the commit files of the log), minus a safety margin (which also spares the files of a write still in flight); with no
 * such remove it is now minus the margin. Delta rounds the retention to whole hours
 * ({@code VacuumCommand.gc}: {@code math.round(retentionHours)}), so the retention is rounded <em>up</em> to the next whole
 * hour: never later than the horizon, at most an hour earlier (versions replaced within that hour keep their files until
 * a later run). Versions before {@code k} lose the files only they referenced.
 * Retention shorter than the table's {@code delta.deletedFileRetentionDuration} (7 days by default) is what
 * {@code spark.databricks.delta.retentionDurationCheck.enabled} guards against, and Delta 4.x ignores a retention other
 * than 0 hours altogether unless {@code spark.databricks.delta.vacuum.retentionWindowIgnore.enabled} is off: both are
 * turned off for the one call, because the horizon here comes from the pinned versions, not from a guess.
 *
 * <p>Time travel to an old version also needs its log: Delta drops commit files older than
 * {@code delta.logRetentionDuration} (30 days by default) at checkpoints, and tombstones older than
 * {@code delta.deletedFileRetentionDuration} leave the checkpoint. {@link #keepLogFor} raises both on a table whose
 * pinned versions must stay readable.
 */
public final class DeltaVacuum {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CHECK = "spark.databricks.delta.retentionDurationCheck.enabled";
    /** Delta 4.x ignores RETAIN N HOURS other than 0 unless this (internal) setting is off; the horizon must be honoured. */
    private static final String IGNORE_WINDOW = "spark.databricks.delta.vacuum.retentionWindowIgnore.enabled";
    /**
     * How many tasks VACUUM lists and matches files with: Spark's default (10,000) made one VACUUM of a two-file table
     * thousands of tasks; a few per core suffice for the tables retention sees.
     */
    private static final String LISTING = "spark.sql.sources.parallelPartitionDiscovery.parallelism";

    private DeltaVacuum() {}

    /** What a vacuum keeping {@code keepFromVersion} and later would delete (dry run) or deleted. */
    public record Outcome(String tablePath, long keepFromVersion, long latestVersion, double retentionHours, Instant horizon,
                          List<String> files, long bytes) {}

    /** The files a vacuum keeping {@code keepFromVersion} and later would delete now, and their size. */
    public static Outcome dryRun(SparkSession spark, String tablePath, long keepFromVersion, Duration margin) {
        long latest = DeltaTables.latestVersion(spark, tablePath);
        Instant horizon = horizon(spark, tablePath, keepFromVersion, latest, margin);
        double hours = retentionHours(horizon);
        List<String> files = withoutRetentionCheck(spark, () -> spark.sql("VACUUM delta.`" + tablePath.replace("`", "``") + "` RETAIN "
                + String.format(Locale.ROOT, "%d", (long) hours) + " HOURS DRY RUN").collectAsList().stream().map(r -> r.getString(0)).toList());
        return new Outcome(tablePath, keepFromVersion, latest, hours, horizon, files, sizes(spark, files));
    }

    /**
     * Vacuums the table keeping {@code keepFromVersion} and every later version readable; returns the files that went and
     * their size (measured before the call, counted only when the file is gone after it).
     */
    public static Outcome vacuum(SparkSession spark, String tablePath, long keepFromVersion, Duration margin) {
        Outcome planned = dryRun(spark, tablePath, keepFromVersion, margin);
        if (planned.files().isEmpty()) {
            return planned;
        }
        Map<String, Long> sizes = new java.util.LinkedHashMap<>();
        for (String f : planned.files()) {
            sizes.put(f, size(spark, f));
        }
        // The horizon again, as late as possible before Delta reads its clock.
        double hours = retentionHours(horizon(spark, tablePath, keepFromVersion, planned.latestVersion(), margin));
        withoutRetentionCheck(spark, () -> DeltaTable.forPath(spark, tablePath).vacuum(hours));
        List<String> gone = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<String, Long> e : sizes.entrySet()) {
            if (!exists(spark, e.getKey())) {
                gone.add(e.getKey());
                bytes += e.getValue();
            }
        }
        return new Outcome(tablePath, keepFromVersion, planned.latestVersion(), hours, planned.horizon(), List.copyOf(gone), bytes);
    }

    /**
     * Makes Delta keep the log and tombstones of the table for at least {@code duration}, so versions pinned that long stay
     * time-travelable. A no-op when both properties already say at least that much (a commit otherwise).
     */
    public static boolean keepLogFor(SparkSession spark, String tablePath, Duration duration) {
        Row detail = DeltaTable.forPath(spark, tablePath).detail().select("properties").head();
        Map<String, String> props = detail.isNullAt(0) ? Map.of() : detail.getJavaMap(0);
        String wanted = "interval " + Math.max(1, duration.toDays()) + " days";
        if (wanted.equals(props.get("delta.logRetentionDuration")) && wanted.equals(props.get("delta.deletedFileRetentionDuration"))) {
            return false;
        }
        if (days(props.get("delta.logRetentionDuration")) >= duration.toDays()
                && days(props.get("delta.deletedFileRetentionDuration")) >= duration.toDays()) {
            return false;
        }
        spark.sql("ALTER TABLE delta.`" + tablePath.replace("`", "``") + "` SET TBLPROPERTIES ('delta.logRetentionDuration' = '" + wanted
                + "', 'delta.deletedFileRetentionDuration' = '" + wanted + "')");
        return true;
    }

    /** Days of an {@code interval N days} property; -1 when unset or in another unit. */
    private static long days(String interval) {
        if (interval == null) {
            return -1;
        }
        String[] parts = interval.trim().toLowerCase(Locale.ROOT).split("\\s+");
        if (parts.length == 3 && parts[0].equals("interval") && (parts[2].equals("days") || parts[2].equals("day"))) {
            try {
                return Long.parseLong(parts[1]);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    /**
     * The instant before which tombstones may go: the earliest removal by a commit after {@code keepFromVersion}, less the
     * margin. Throws when a needed commit file is gone (the log was cleaned): then the horizon cannot be known.
     */
    static Instant horizon(SparkSession spark, String tablePath, long keepFromVersion, long latestVersion, Duration margin) {
        OptionalLong earliest = OptionalLong.empty();
        for (long v = keepFromVersion + 1; v <= latestVersion; v++) {
            OptionalLong removal = earliestRemoval(spark, tablePath, v);
            if (removal.isPresent() && (earliest.isEmpty() || removal.getAsLong() < earliest.getAsLong())) {
                earliest = removal;
            }
        }
        Instant base = earliest.isPresent() ? Instant.ofEpochMilli(earliest.getAsLong()) : Instant.now();
        return base.minus(margin);
    }

    private static OptionalLong earliestRemoval(SparkSession spark, String tablePath, long version) {
        Path commit = new Path(tablePath + "/_delta_log/" + String.format(Locale.ROOT, "%020d.json", version));
        try {
            FileSystem fs = commit.getFileSystem(spark.sparkContext().hadoopConfiguration());
            OptionalLong earliest = OptionalLong.empty();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(fs.open(commit), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    if (line.isBlank()) {
                        continue;
                    }
                    JsonNode remove = JSON.readTree(line).get("remove");
                    if (remove != null && remove.hasNonNull("deletionTimestamp")) {
                        long ts = remove.get("deletionTimestamp").asLong();
                        if (earliest.isEmpty() || ts < earliest.getAsLong()) {
                            earliest = OptionalLong.of(ts);
                        }
                    }
                }
            }
            return earliest;
        } catch (FileNotFoundException e) {
            throw new IllegalStateException("the commit file of version " + version + " of " + tablePath + " is gone (log cleaned up),"
                    + " so the vacuum horizon that keeps the pinned versions readable cannot be computed", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read commit " + version + " of " + tablePath + ": " + e.getMessage(), e);
        }
    }

    /** Whole hours (Delta rounds to them), rounded up so that Delta's horizon is never later than {@code horizon}. */
    private static double retentionHours(Instant horizon) {
        long millis = Math.max(0, Instant.now().toEpochMilli() - horizon.toEpochMilli());
        return Math.ceil(millis / 3_600_000.0);
    }

    private static <T> T withoutRetentionCheck(SparkSession spark, java.util.function.Supplier<T> body) {
        return SessionConfs.around(spark, Map.of(CHECK, "false", IGNORE_WINDOW, "false",
                LISTING, String.valueOf(Math.max(8, 4 * spark.sparkContext().defaultParallelism()))), body);
    }

    private static long sizes(SparkSession spark, List<String> files) {
        long total = 0;
        for (String f : files) {
            total += size(spark, f);
        }
        return total;
    }

    private static long size(SparkSession spark, String file) {
        try {
            Path p = new Path(file);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            return fs.exists(p) ? fs.getContentSummary(p).getLength() : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean exists(SparkSession spark, String file) {
        try {
            Path p = new Path(file);
            return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
        } catch (IOException e) {
            return true;
        }
    }
}
