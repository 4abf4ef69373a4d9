package io.trellis.activities.retention;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.trellis.activities.artifacts.ArtifactStore;
import io.trellis.metadata.AuditOutcome;
import io.trellis.metadata.Registry;
import io.trellis.metadata.RetentionStore;
import io.trellis.metadata.RetentionStore.DatasetVersionState;
import io.trellis.metadata.RetentionStore.Inventory;
import io.trellis.metadata.RetentionStore.ModelVersionState;
import io.trellis.metadata.RetentionStore.PurgedSubject;
import io.trellis.spark.DeltaTables;
import io.trellis.spark.retention.DeltaVacuum;
import io.trellis.spark.retention.PredictionRowsPurge;
import io.trellis.spark.retention.PredictionRowsPurge.ModelVersionKey;
import io.trellis.workflows.activities.ArtifactRef;
import io.trellis.workflows.retention.RetentionActivities;
import io.trellis.workflows.retention.RetentionItem;
import io.trellis.workflows.retention.RetentionMode;
import io.trellis.workflows.retention.RetentionReport;
import io.trellis.workflows.retention.RetentionRequest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lineage-aware retention. Model artifacts: every version no pin protects loses its artifact (artifact store delete) and
 * gains a purge mark; its registry row, lineage and audit history stay. Feature and prediction tables: each is vacuumed
 * keeping its oldest pinned version (or its latest, when none is pinned) and every later version readable; the recorded
 * versions before it lose the files only they referenced and are marked purged. Raw source tables are never touched:
 * they are the users' data, and every reproduction starts from them. Prediction tables are append-only: before their
 * vacuum, the rows of unpinned model versions scored before the compliance cutoff are deleted ({@link PredictionRowsPurge}).
 *
 * <p>Audit: {@code retention.planned} for a dry run, {@code retention.completed} for a deletion (one row each, with the
 * lists and bytes), and {@code model.artifact_purged} per model version whose artifact went. Each is written at most once
 * per retention run and subject ({@link RetentionStore#auditOnce}), so a retried attempt never duplicates them.
 */
public final class RetentionActivitiesImpl implements RetentionActivities {
    private static final Logger log = LoggerFactory.getLogger(RetentionActivitiesImpl.class);
    private static final List<String> VACUUMED_KINDS = List.of("features", "predictions");

    private final Registry registry;
    private final RetentionStore store;
    private final ArtifactStore artifacts;
    private final SparkSession spark;
    private final int complianceDays;
    private final Duration vacuumMargin;
    private final Clock clock;

    public RetentionActivitiesImpl(Registry registry, RetentionStore store, ArtifactStore artifacts, SparkSession spark, int complianceDays,
                                   Duration vacuumMargin, Clock clock) {
        this.registry = registry;
        this.store = store;
        this.artifacts = artifacts;
        this.spark = spark;
        this.complianceDays = complianceDays;
        this.vacuumMargin = vacuumMargin;
        this.clock = clock;
    }

    @Override
    public RetentionReport reclaim(RetentionRequest request, String retentionRun) {
        // A VACUUM (listing, joins, deletes) can run for minutes without returning: a background beat keeps the attempt
        // alive within its heartbeat timeout, carrying what is being worked on.
        ActivityExecutionContext ctx = activityContext();
        java.util.concurrent.ScheduledExecutorService beat = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "retention-heartbeat");
            t.setDaemon(true);
            return t;
        });
        if (ctx != null) {
            beat.scheduleAtFixedRate(() -> {
                try {
                    ctx.heartbeat(current.get());
                } catch (RuntimeException e) {
                    // cancelled or timed out: the activity thread finds out at its next heartbeat
                }
            }, 5, 5, java.util.concurrent.TimeUnit.SECONDS);
        }
        try {
            return reclaimNow(request, retentionRun);
        } finally {
            beat.shutdownNow();
        }
    }

    private final java.util.concurrent.atomic.AtomicReference<String> current = new java.util.concurrent.atomic.AtomicReference<>("starting");

    private RetentionReport reclaimNow(RetentionRequest request, String retentionRun) {
        boolean delete = request.mode() == RetentionMode.DELETE;
        Instant cutoff = clock.instant().minus(Duration.ofDays(complianceDays));
        Inventory inventory = store.inventory(cutoff);
        List<RetentionItem> removed = new ArrayList<>();
        List<RetentionItem> kept = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long bytes = 0;

        // A retried attempt of this run finds what an earlier attempt purged already marked: it reports it again and writes its
        // audit row only if that attempt did not get to it (auditOnce), never twice.
        Map<Long, Long> purgedByThisRun = delete ? store.modelVersionsPurgedBy(retentionRun) : Map.of();
        for (ModelVersionState v : inventory.modelVersions()) {
            String subject = v.modelName() + " v" + v.version();
            if (v.artifactUri() == null) {
                continue;
            }
            if (v.purgedAt() != null) {
                Long earlier = purgedByThisRun.get(v.id());
                if (earlier != null) {
                    auditArtifactPurged(request, retentionRun, v, earlier);
                    removed.add(new RetentionItem(RetentionItem.MODEL_ARTIFACT, subject, earlier, List.of(), v.artifactUri()));
                    bytes += earlier;
                }
                continue;
            }
            long size = v.artifactBytes() == null ? 0 : v.artifactBytes();
            if (v.pinned()) {
                kept.add(new RetentionItem(RetentionItem.MODEL_ARTIFACT, subject, size, v.pins(), v.artifactUri()));
                continue;
            }
            heartbeat("artifact " + subject);
            if (delete) {
                size = artifacts.delete(new ArtifactRef(v.artifactUri(), v.artifactSha256(), size));
                String reason = "retention: not live or a candidate anywhere, no active promotion, older than the " + complianceDays
                        + "-day compliance period, not trained on data under legal hold";
                store.markPurged(PurgedSubject.MODEL_VERSION, v.id(), reason, retentionRun, size);
                auditArtifactPurged(request, retentionRun, v, size);
            }
            removed.add(new RetentionItem(RetentionItem.MODEL_ARTIFACT, subject, size, List.of(), v.artifactUri()));
            bytes += size;
        }

        Map<String, List<DatasetVersionState>> tables = new TreeMap<>();
        for (DatasetVersionState d : inventory.datasetVersions()) {
            if (VACUUMED_KINDS.contains(d.kind())) {
                tables.computeIfAbsent(d.tablePath(), k -> new ArrayList<>()).add(d);
            }
        }
        // Prediction rows of model versions nothing pins (their pins include the compliance period) may go, scored before the cutoff.
        Map<ModelVersionKey, ModelVersionState> unpinned = new TreeMap<>();
        for (ModelVersionState v : inventory.modelVersions()) {
            if (!v.pinned()) {
                unpinned.put(new ModelVersionKey(v.modelName(), v.version()), v);
            }
        }
        for (Map.Entry<String, List<DatasetVersionState>> table : tables.entrySet()) {
            if (table.getValue().stream().anyMatch(d -> d.kind().equals("predictions"))) {
                heartbeat("prediction rows " + table.getKey());
                try {
                    reclaimPredictionRows(table.getKey(), unpinned, cutoff, delete, retentionRun, removed);
                } catch (RuntimeException e) {
                    log.warn("retention left the prediction rows of {}: {}", table.getKey(), e.getMessage());
                    warnings.add(table.getKey() + ": prediction rows not deleted, " + e.getMessage());
                }
            }
            heartbeat("table " + table.getKey());
            try {
                bytes += reclaimTable(table.getKey(), table.getValue(), delete, retentionRun, removed, kept);
            } catch (RuntimeException e) {
                // Never vacuum a table whose horizon is unknown; report it and go on with the others.
                log.warn("retention skipped {}: {}", table.getKey(), e.getMessage());
                warnings.add(table.getKey() + ": skipped, " + e.getMessage());
            }
        }

        RetentionReport report = new RetentionReport(retentionRun, request.mode(), complianceDays, cutoff.toString(), removed, kept, bytes,
                warnings);
        audit(request, report);
        return report;
    }

    /**
     * Prediction tables are append-only, so a vacuum frees nothing there: the rows of unpinned model versions scored before the
     * compliance cutoff go in one Delta DELETE (before the vacuum, which frees the rewritten files once the DELETE is older than
     * its horizon), and each such model version gets a {@code model_predictions} purge mark. Rows of pinned versions stay.
     */
    private void reclaimPredictionRows(String path, Map<ModelVersionKey, ModelVersionState> unpinned, Instant cutoff, boolean delete,
                                       String retentionRun, List<RetentionItem> removed) {
        if (!DeltaTables.exists(spark, path)) {
            throw new IllegalStateException("no Delta table at this path any more");
        }
        PredictionRowsPurge.Outcome outcome = delete ? PredictionRowsPurge.delete(spark, path, unpinned.keySet(), cutoff, retentionRun)
                : PredictionRowsPurge.plan(spark, path, unpinned.keySet(), cutoff);
        for (Map.Entry<ModelVersionKey, Long> rows : outcome.rows().entrySet()) {
            String where = outcome.commitVersion().isPresent() ? "deleted by Delta version " + outcome.commitVersion().getAsLong()
                    : "would be deleted";
            removed.add(new RetentionItem(RetentionItem.PREDICTION_ROWS, path + " " + rows.getKey() + ": " + rows.getValue() + " rows", 0,
                    List.of(), rows.getValue() + " rows scored before " + cutoff + " " + where + "; their files go with a later vacuum"));
            if (delete) {
                ModelVersionState v = unpinned.get(rows.getKey());
                store.markPurged(PurgedSubject.MODEL_PREDICTIONS, v.id(), "retention: " + rows.getValue() + " prediction rows scored before "
                        + cutoff + " deleted from " + path + " (Delta version " + outcome.commitVersion().getAsLong() + ")", retentionRun, 0);
            }
        }
    }

    /** Vacuums one table up to its oldest pinned version; returns the bytes freed (or that would be). */
    private long reclaimTable(String path, List<DatasetVersionState> versions, boolean delete, String retentionRun,
                              List<RetentionItem> removed, List<RetentionItem> kept) {
        if (!DeltaTables.exists(spark, path)) {
            throw new IllegalStateException("no Delta table at this path any more");
        }
        long latest = DeltaTables.latestVersion(spark, path);
        long keepFrom = latest;
        List<String> pins = new ArrayList<>();
        for (DatasetVersionState d : versions) {
            if (d.pinned() && d.deltaVersion() < keepFrom) {
                keepFrom = d.deltaVersion();
            }
            if (d.pinned()) {
                pins.add("v" + d.deltaVersion() + ": " + String.join("; ", d.pins()));
            }
        }
        final long oldestKept = keepFrom;
        List<DatasetVersionState> older = versions.stream().filter(d -> d.deltaVersion() < oldestKept).toList();
        kept.add(new RetentionItem(RetentionItem.DELTA_FILES, path + "@" + keepFrom + ".." + latest, 0,
                pins.isEmpty() ? List.of("latest version (a vacuum never removes it)") : pins,
                "versions " + keepFrom + ".." + latest + " stay readable"));
        if (keepFrom == 0) {
            return 0;
        }
        if (delete && keepFrom < latest) {
            // The pinned versions must outlive Delta's own log and tombstone clean-up as long as they are pinned.
            DeltaVacuum.keepLogFor(spark, path, Duration.ofDays(Math.max(3650, complianceDays * 2L)));
        }
        DeltaVacuum.Outcome outcome = delete ? DeltaVacuum.vacuum(spark, path, keepFrom, vacuumMargin)
                : DeltaVacuum.dryRun(spark, path, keepFrom, vacuumMargin);
        List<DatasetVersionState> purgeable = older.stream().filter(d -> d.purgedAt() == null).toList();
        if (outcome.files().isEmpty()) {
            // Nothing went (the whole-hour horizon still covers them): no version is marked purged while its files remain.
            return 0;
        }
        String subject = path + "@" + (older.isEmpty() ? "-" : older.get(0).deltaVersion() + ".." + older.get(older.size() - 1).deltaVersion());
        removed.add(new RetentionItem(RetentionItem.DELTA_FILES, subject, outcome.bytes(), List.of(),
                outcome.files().size() + " files; vacuum horizon " + outcome.horizon() + " (retain "
                        + String.format(java.util.Locale.ROOT, "%.4f", outcome.retentionHours()) + " h) keeps versions " + keepFrom + ".." + latest));
        if (delete) {
            // Files went only after the horizon; the older versions can no longer be read.
            for (DatasetVersionState d : purgeable) {
                store.markPurged(PurgedSubject.DATASET_VERSION, d.id(), "retention: vacuumed; versions " + keepFrom + ".." + latest
                        + " of the table are kept", retentionRun, 0);
            }
        }
        return outcome.bytes();
    }

    private void auditArtifactPurged(RetentionRequest request, String retentionRun, ModelVersionState v, long size) {
        String subject = v.modelName() + " v" + v.version();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("artifactUri", v.artifactUri());
        details.put("bytes", size);
        details.put("retentionRun", retentionRun);
        store.auditOnce(retentionRun, "model_version:" + v.id(), request.requestedBy(), "model.artifact_purged", AuditOutcome.SUCCESS,
                v.modelName(), v.version(), "Artifact of " + subject + " deleted by retention (" + size
                        + " bytes); the version's record and lineage stay", details);
    }

    private void audit(RetentionRequest request, RetentionReport report) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("retentionRun", report.retentionRun());
        details.put("mode", report.mode().name());
        details.put("complianceDays", report.complianceDays());
        details.put("bytes", report.bytesReclaimed());
        details.put(report.mode() == RetentionMode.DELETE ? "deleted" : "wouldDelete",
                report.removed().stream().map(i -> i.kind() + " " + i.subject() + " (" + i.bytes() + " B)").toList());
        details.put("kept", report.kept().stream().map(i -> i.kind() + " " + i.subject() + ": " + String.join("; ", i.pins())).toList());
        details.put("warnings", report.warnings());
        details.put("reason", request.reason());
        String text = report.mode() == RetentionMode.DELETE
                ? "Retention deleted " + report.removed().size() + " item(s), " + report.bytesReclaimed() + " bytes reclaimed; kept "
                        + report.kept().size() + " pinned"
                : "Retention dry run: would delete " + report.removed().size() + " item(s), " + report.bytesReclaimed()
                        + " bytes; would keep " + report.kept().size() + " pinned";
        // One summary row per run: a retried attempt whose predecessor already wrote it writes nothing.
        store.auditOnce(report.retentionRun(), "run", request.requestedBy(),
                report.mode() == RetentionMode.DELETE ? "retention.completed" : "retention.planned",
                report.warnings().isEmpty() ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE, null, null, text, details);
    }

    private void heartbeat(String detail) {
        current.set(detail);
        ActivityExecutionContext ctx = activityContext();
        if (ctx != null) {
            ctx.heartbeat(detail);
        }
    }

    private static ActivityExecutionContext activityContext() {
        try {
            return Activity.getExecutionContext();
        } catch (RuntimeException notInAnActivity) {
            return null; // called directly (tests): nothing to report to
        }
    }
}
