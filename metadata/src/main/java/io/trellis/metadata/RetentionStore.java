package io.trellis.metadata;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.hibernate.Session;

/**
 * What lineage-aware retention reads and writes (V11): legal holds on dataset versions, the pins that keep a model
 * version or a dataset version from being purged, and purge marks. Metadata is never deleted: a purged subject keeps its
 * row and gains a mark with the time, the reason, the retention run and the bytes reclaimed.
 *
 * <p>Pins of a model version: an open deployment pointer (live or candidate) in any environment, an active promotion,
 * creation within the compliance period, or training on a dataset version under legal hold. Pins of a dataset version:
 * being an input (source, features) of a pinned model version, a legal hold, or creation within the compliance period.
 */
public final class RetentionStore {
    /** Audit actions of holds. */
    public static final String HOLD_SET = "hold.set";
    public static final String HOLD_LIFTED = "hold.lifted";
    /** The roles that may set and lift legal holds. */
    public static final Set<PrincipalRole> HOLD_ROLES = Set.of(PrincipalRole.AUDITOR, PrincipalRole.ADMIN);

    private final Transactions tx;

    RetentionStore(Transactions tx) {
        this.tx = tx;
    }

    /** A legal hold; {@code liftedAt} is null while it holds. */
    public record LegalHold(long id, long datasetVersionId, String tablePath, long deltaVersion, String kind, String reason, String setBy,
                            Instant setAt, String liftedBy, Instant liftedAt, String liftReason) {
        public boolean isOpen() {
            return liftedAt == null;
        }
    }

    /** A model version as retention sees it: its artifact, its pins (empty: it may be purged) and whether it was purged. */
    public record ModelVersionState(long id, String modelName, int version, long trainingRunId, String artifactUri, String artifactSha256,
                                    Long artifactBytes, Instant createdAt, List<String> pins, Instant purgedAt) {
        public boolean pinned() {
            return !pins.isEmpty();
        }
    }

    /** A recorded dataset version (Delta table version) with its pins and purge mark. */
    public record DatasetVersionState(long id, String tablePath, long deltaVersion, String kind, Instant createdAt, List<String> pins,
                                      Instant purgedAt) {
        public boolean pinned() {
            return !pins.isEmpty();
        }

        public String label() {
            return tablePath + "@" + deltaVersion;
        }
    }

    /** Everything retention decides on, read in one transaction. */
    public record Inventory(Instant complianceCutoff, List<ModelVersionState> modelVersions, List<DatasetVersionState> datasetVersions) {}

    // ------------------------------------------------------------------ holds

    /**
     * Places a legal hold on a recorded dataset version and audits {@code hold.set}. UNKNOWN_DATASET_VERSION when no such
     * version is recorded; INVALID_STATE when it is already held or was purged; FORBIDDEN (audited REJECTED) unless the actor
     * is an auditor or admin.
     */
    public LegalHold setHold(String tablePath, long deltaVersion, String reason, String actor) {
        requireText(tablePath, "table");
        requireText(reason, "reason (why the hold is placed)");
        requireText(actor, "actor");
        return tx.inTransaction(em -> em.unwrap(Session.class).doReturningWork(c -> {
            Long datasetId = datasetVersionId(c, tablePath, deltaVersion);
            if (datasetId == null) {
                throw new TrellisException(ErrorCode.UNKNOWN_DATASET_VERSION, "No dataset version " + tablePath + "@" + deltaVersion
                        + " is recorded, so it cannot be held. List recorded versions with `trellis lineage` or"
                        + " GET /api/v1/models/{model}/versions/{version}/lineage, and give the table path and Delta version exactly.");
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("table", tablePath);
            details.put("deltaVersion", deltaVersion);
            details.put("reason", reason);
            if (!mayHold(c, actor)) {
                Registry.audit(em, actor, HOLD_SET, AuditOutcome.REJECTED, null, null, null,
                        actor + " may not place legal holds: it needs the auditor or admin role", details);
                return refusal(actor);
            }
            Instant purged = purgedAt(c, "dataset_version", datasetId);
            if (purged != null) {
                throw new TrellisException(ErrorCode.INVALID_STATE, tablePath + "@" + deltaVersion + " was purged at " + purged
                        + "; its files are gone, so a hold cannot keep it.");
            }
            LegalHold open = openHold(c, datasetId);
            if (open != null) {
                throw new TrellisException(ErrorCode.INVALID_STATE, tablePath + "@" + deltaVersion + " is already under legal hold "
                        + open.id() + " (set by " + open.setBy() + " at " + open.setAt() + "); lift it first to replace it.");
            }
            long id;
            try (PreparedStatement ps = c.prepareStatement("insert into legal_holds (dataset_version_id, reason, set_by, set_at)"
                    + " values (?, ?, ?, ?) returning id")) {
                ps.setLong(1, datasetId);
                ps.setString(2, reason);
                ps.setString(3, actor);
                ps.setTimestamp(4, Timestamp.from(Registry.now()));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            details.put("holdId", id);
            Registry.audit(em, actor, HOLD_SET, AuditOutcome.SUCCESS, null, null, null,
                    "Legal hold " + id + " placed on " + tablePath + "@" + deltaVersion + ": " + reason, details);
            return hold(c, id);
        }));
    }

    /** Lifts an open hold and audits {@code hold.lifted}; same role rule as {@link #setHold}. */
    public LegalHold liftHold(long holdId, String reason, String actor) {
        requireText(reason, "reason (why the hold is lifted)");
        requireText(actor, "actor");
        return tx.inTransaction(em -> em.unwrap(Session.class).doReturningWork(c -> {
            LegalHold hold = hold(c, holdId);
            if (hold == null) {
                throw new TrellisException(ErrorCode.UNKNOWN_LEGAL_HOLD, "There is no legal hold " + holdId
                        + "; list them with `trellis holds list` or GET /api/v1/holds.");
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("holdId", holdId);
            details.put("table", hold.tablePath());
            details.put("deltaVersion", hold.deltaVersion());
            details.put("reason", reason);
            if (!mayHold(c, actor)) {
                Registry.audit(em, actor, HOLD_LIFTED, AuditOutcome.REJECTED, null, null, null,
                        actor + " may not lift legal holds: it needs the auditor or admin role", details);
                return refusal(actor);
            }
            if (!hold.isOpen()) {
                throw new TrellisException(ErrorCode.INVALID_STATE, "Legal hold " + holdId + " was already lifted by " + hold.liftedBy()
                        + " at " + hold.liftedAt() + ".");
            }
            try (PreparedStatement ps = c.prepareStatement("update legal_holds set lifted_by = ?, lifted_at = ?, lift_reason = ?"
                    + " where id = ? and lifted_at is null")) {
                ps.setString(1, actor);
                ps.setTimestamp(2, Timestamp.from(Registry.now()));
                ps.setString(3, reason);
                ps.setLong(4, holdId);
                ps.executeUpdate();
            }
            Registry.audit(em, actor, HOLD_LIFTED, AuditOutcome.SUCCESS, null, null, null,
                    "Legal hold " + holdId + " on " + hold.tablePath() + "@" + hold.deltaVersion() + " lifted: " + reason, details);
            return hold(c, holdId);
        }));
    }

    /** Every hold, open and lifted, newest first. */
    public List<LegalHold> holds() {
        return tx.inConnection(c -> holds(c, ""));
    }

    /** The holds still in force, newest first. */
    public List<LegalHold> openHolds() {
        return tx.inConnection(c -> holds(c, " where h.lifted_at is null"));
    }

    // ------------------------------------------------------------------ pins and purge marks

    /** Every model version and every recorded dataset version with its pins, as of now with the given compliance cutoff. */
    public Inventory inventory(Instant complianceCutoff) {
        Objects.requireNonNull(complianceCutoff, "complianceCutoff");
        return tx.inConnection(c -> {
            Map<Long, List<String>> modelPins = new TreeMap<>();
            Map<Long, ModelVersionState> models = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("select v.id, m.name, v.version, v.training_run_id, v.artifact_uri,"
                    + " v.artifact_sha256, v.artifact_bytes, v.created_at, p.purged_at from model_versions v join models m on m.id = v.model_id"
                    + " left join purge_marks p on p.subject_kind = 'model_version' and p.subject_id = v.id order by m.name, v.version");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    long bytes = rs.getLong(7);
                    models.put(id, new ModelVersionState(id, rs.getString(2), rs.getInt(3), rs.getLong(4), rs.getString(5), rs.getString(6),
                            rs.wasNull() ? null : bytes, rs.getTimestamp(8).toInstant(), List.of(), instant(rs.getTimestamp(9))));
                    modelPins.put(id, new ArrayList<>());
                    if (!rs.getTimestamp(8).toInstant().isBefore(complianceCutoff)) {
                        modelPins.get(id).add("compliance period (created " + rs.getTimestamp(8).toInstant() + ")");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("select d.model_version_id, d.role, e.name from deployments d"
                    + " join environments e on e.id = d.environment_id where d.valid_to is null order by e.ordinal");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    modelPins.get(rs.getLong(1)).add(rs.getString(2) + " in " + rs.getString(3));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("select model_version_id, promotion_key from promotions"
                    + " where status in ('RUNNING', 'AWAITING_APPROVAL')");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    modelPins.get(rs.getLong(1)).add("active promotion " + rs.getString(2));
                }
            }
            // Inputs of every training run: dataset version -> run.
            Map<Long, List<Long>> inputsOfRun = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("select to_id, from_id from lineage_edges"
                    + " where from_kind = 'dataset_version' and to_kind = 'training_run'");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inputsOfRun.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getLong(2));
                }
            }
            Map<Long, List<String>> datasetPins = new TreeMap<>();
            List<LegalHold> openHolds = holds(c, " where h.lifted_at is null");
            for (LegalHold h : openHolds) {
                datasetPins.computeIfAbsent(h.datasetVersionId(), k -> new ArrayList<>()).add("legal hold " + h.id() + " (" + h.reason() + ")");
            }
            for (ModelVersionState v : models.values()) {
                for (Long input : inputsOfRun.getOrDefault(v.trainingRunId(), List.of())) {
                    for (LegalHold h : openHolds) {
                        if (h.datasetVersionId() == input) {
                            modelPins.get(v.id()).add("trained on " + h.tablePath() + "@" + h.deltaVersion() + " under legal hold " + h.id());
                        }
                    }
                }
            }
            List<ModelVersionState> modelStates = new ArrayList<>();
            for (ModelVersionState v : models.values()) {
                List<String> pins = List.copyOf(new java.util.LinkedHashSet<>(modelPins.get(v.id())));
                modelStates.add(new ModelVersionState(v.id(), v.modelName(), v.version(), v.trainingRunId(), v.artifactUri(), v.artifactSha256(),
                        v.artifactBytes(), v.createdAt(), pins, v.purgedAt()));
                if (!pins.isEmpty()) {
                    for (Long input : inputsOfRun.getOrDefault(v.trainingRunId(), List.of())) {
                        datasetPins.computeIfAbsent(input, k -> new ArrayList<>()).add("input of " + v.modelName() + " v" + v.version()
                                + " (" + String.join("; ", pins) + ")");
                    }
                }
            }
            List<DatasetVersionState> datasets = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select d.id, d.table_path, d.delta_version, d.kind, d.created_at, p.purged_at"
                    + " from dataset_versions d left join purge_marks p on p.subject_kind = 'dataset_version' and p.subject_id = d.id"
                    + " order by d.table_path, d.delta_version");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    Instant created = rs.getTimestamp(5).toInstant();
                    List<String> pins = new ArrayList<>(datasetPins.getOrDefault(id, List.of()));
                    if (!created.isBefore(complianceCutoff)) {
                        pins.add("compliance period (created " + created + ")");
                    }
                    datasets.add(new DatasetVersionState(id, rs.getString(2), rs.getLong(3), rs.getString(4), created, List.copyOf(pins),
                            instant(rs.getTimestamp(6))));
                }
            }
            return new Inventory(complianceCutoff, List.copyOf(modelStates), List.copyOf(datasets));
        });
    }

    /** Marks a model version's artifact or a dataset version's files purged; false when it was marked already (the first mark stays). */
    public boolean markPurged(PurgedSubject kind, long subjectId, String reason, String retentionRun, long bytes) {
        requireText(reason, "reason");
        requireText(retentionRun, "retentionRun");
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into purge_marks (subject_kind, subject_id, purged_at, reason, retention_run,"
                    + " bytes) values (?, ?, ?, ?, ?, ?) on conflict (subject_kind, subject_id) do nothing")) {
                ps.setString(1, kind.dbValue());
                ps.setLong(2, subjectId);
                ps.setTimestamp(3, Timestamp.from(Registry.now()));
                ps.setString(4, reason);
                ps.setString(5, retentionRun);
                ps.setLong(6, Math.max(0, bytes));
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * Writes an audit row of retention run {@code retentionRun} about {@code subject} at most once (V12
     * {@code retention_audit_keys}): the key and the row are written in one transaction, and nothing is written when the key
     * is there already (a retried attempt of the same run). Returns whether the row was written now.
     */
    public boolean auditOnce(String retentionRun, String subject, String actor, String action, AuditOutcome outcome, String modelName,
                             Integer modelVersion, String message, Map<String, Object> details) {
        requireText(retentionRun, "retentionRun");
        requireText(subject, "subject");
        requireText(actor, "actor");
        return tx.inTransaction(em -> {
            boolean fresh = em.unwrap(Session.class).doReturningWork(c -> {
                try (PreparedStatement ps = c.prepareStatement("insert into retention_audit_keys (retention_run, subject, action)"
                        + " values (?, ?, ?) on conflict (retention_run, subject) do nothing")) {
                    ps.setString(1, retentionRun);
                    ps.setString(2, subject);
                    ps.setString(3, action);
                    return ps.executeUpdate() == 1;
                }
            });
            if (fresh) {
                Registry.audit(em, actor, action, outcome, modelName, modelVersion, null, message, details);
            }
            return fresh;
        });
    }

    /** The ids of the model versions whose artifacts retention run {@code retentionRun} purged, with the bytes it recorded. */
    public Map<Long, Long> modelVersionsPurgedBy(String retentionRun) {
        return tx.inConnection(c -> {
            Map<Long, Long> out = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("select subject_id, bytes from purge_marks where subject_kind = 'model_version'"
                    + " and retention_run = ?")) {
                ps.setString(1, retentionRun);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getLong(1), rs.getLong(2));
                    }
                }
            }
            return out;
        });
    }

    /** What a purge mark is on. */
    public enum PurgedSubject {
        MODEL_VERSION("model_version"),
        DATASET_VERSION("dataset_version"),
        /** A model version's old prediction rows, deleted from prediction tables (V12). */
        MODEL_PREDICTIONS("model_predictions");

        private final String dbValue;

        PurgedSubject(String dbValue) {
            this.dbValue = dbValue;
        }

        String dbValue() {
            return dbValue;
        }
    }

    /** When the subject was purged, if it was. */
    public java.util.Optional<Instant> purgedAt(PurgedSubject kind, long subjectId) {
        return java.util.Optional.ofNullable(tx.inConnection(c -> purgedAt(c, kind.dbValue(), subjectId)));
    }

    // ------------------------------------------------------------------ internals

    private static <T> T refusal(String actor) {
        throw new Transactions.AuditedFailure(new TrellisException(ErrorCode.FORBIDDEN, actor
                + " may not place or lift legal holds: that needs the auditor or admin role (grant it with `trellis principals grant`)."));
    }

    private static boolean mayHold(Connection c, String actor) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select unnest(roles) from principals where name = ?")) {
            ps.setString(1, actor);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (HOLD_ROLES.contains(PrincipalRole.fromDb(rs.getString(1)))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static Long datasetVersionId(Connection c, String tablePath, long deltaVersion) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id from dataset_versions where table_path = ? and delta_version = ?")) {
            ps.setString(1, tablePath);
            ps.setLong(2, deltaVersion);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : null;
            }
        }
    }

    private static Instant purgedAt(Connection c, String kind, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select purged_at from purge_marks where subject_kind = ? and subject_id = ?")) {
            ps.setString(1, kind);
            ps.setLong(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getTimestamp(1).toInstant() : null;
            }
        }
    }

    private static LegalHold openHold(Connection c, long datasetVersionId) throws SQLException {
        return holds(c, " where h.lifted_at is null and h.dataset_version_id = " + datasetVersionId).stream().findFirst().orElse(null);
    }

    private static LegalHold hold(Connection c, long holdId) throws SQLException {
        return holds(c, " where h.id = " + holdId).stream().findFirst().orElse(null);
    }

    /** {@code where} is a constant condition built from numbers only, never from user text. */
    private static List<LegalHold> holds(Connection c, String where) throws SQLException {
        List<LegalHold> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select h.id, h.dataset_version_id, d.table_path, d.delta_version, d.kind, h.reason,"
                + " h.set_by, h.set_at, h.lifted_by, h.lifted_at, h.lift_reason from legal_holds h join dataset_versions d"
                + " on d.id = h.dataset_version_id" + where + " order by h.id desc");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new LegalHold(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getLong(4), rs.getString(5), rs.getString(6),
                        rs.getString(7), rs.getTimestamp(8).toInstant(), rs.getString(9), instant(rs.getTimestamp(10)), rs.getString(11)));
            }
        }
        return out;
    }

    private static Instant instant(Timestamp t) {
        return t == null ? null : t.toInstant();
    }

    private static void requireText(String value, String name) {
        if (value == null || value.isBlank()) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, name + " must not be blank");
        }
    }
}
