package io.trellis.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import jakarta.persistence.EntityManager;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.ArrayList;
import org.hibernate.Session;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Monitoring in PostgreSQL: reference profiles per model version, monitoring runs with their decision (each audited
 * in the same transaction, once per run key), and their statistics as a time series per model, feature and statistic.
 * Plain SQL over the V5 tables; the profile itself is opaque JSON written and read by the monitoring activities.
 */
public final class MonitoringStore {
    /** Feature name of the score-distribution statistics. */
    public static final String PREDICTION = "__prediction__";
    /** Feature name of the performance statistics (auc, auc_drop). */
    public static final String MODEL = "__model__";
    public static final String DECISION_RETRAIN_STARTED = "RETRAIN_STARTED";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Transactions tx;

    MonitoringStore(Transactions tx) {
        this.tx = tx;
    }

    /** A stored reference profile: the snapshot it was computed on and the profile JSON. */
    public record StoredReference(String sourceTable, long sourceVersion, String profileJson) {}

    /** One statistic of one run. */
    public record Statistic(String feature, String statistic, double value, String severity) {}

    /** Every statistic monitoring records: per feature psi, ks and null_rate; psi of {@link #PREDICTION}; auc and auc_drop of {@link #MODEL}. */
    public static final List<String> STATISTICS = List.of("psi", "ks", "null_rate", "auc", "auc_drop");

    /** One point of a time series: the monitoring run, when, the value, its severity (PSI only) and what was watched. */
    public record Point(String runKey, Instant measuredAt, double value, String severity, Integer modelVersion, String environment) {}

    /** A series a model has points in: a feature (or {@link #PREDICTION} / {@link #MODEL}) and a statistic. */
    public record SeriesName(String feature, String statistic) {}

    /** A recorded monitoring run. */
    public record MonitoringRun(String runKey, String modelName, Integer modelVersion, String environment, String decision,
                                String reason, String retrainRunKey, String windowFrom, String windowTo, Long referenceRows,
                                Long currentRows, String reportUri, List<String> findings, String requestedBy, Instant measuredAt) {}

    /** Why a retrain must not start now, or null fields when it may. */
    public record RetrainGuard(String runningRunKey, String recentMonitorRetrain, Instant recentMonitorRetrainAt) {
        public boolean allowsRetrain() {
            return runningRunKey == null && recentMonitorRetrain == null;
        }
    }

    /**
     * A batch scoring run as the registry recorded it (its {@code scoring.completed} audit row): the run key its
     * predictions commit carries, the predictions table and the Delta version it wrote, the source table version it
     * scored, and when it was recorded.
     */
    public record ScoringRun(String runKey, String predictionsTable, long predictionsVersion, String sourceTable, long sourceVersion,
                             Instant recordedAt) {}

    /**
     * The latest recorded batch scoring run of {@code modelName} v{@code version} in {@code environment} (the one that
     * wrote the highest Delta version of its predictions table); empty when none is recorded. One indexed query over the
     * audit trail, so that monitoring finds the scores to read without a Spark job over the predictions table.
     */
    public Optional<ScoringRun> latestScoringRun(String modelName, int version, String environment) {
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("select run_key, details->>'predictionsTable',"
                    + " details->>'predictionsVersion', details->>'sourceTable', details->>'sourceVersion', occurred_at"
                    + " from audit_log where model_name = ? and model_version = ?"
                    + " and action = 'scoring.completed' and outcome = 'SUCCESS' and details->>'environment' = ?"
                    + " and details->>'predictionsTable' is not null and details->>'predictionsVersion' is not null"
                    + " and details->>'sourceVersion' is not null"
                    + " order by (details->>'predictionsVersion')::bigint desc, id desc limit 1")) {
                ps.setString(1, modelName);
                ps.setInt(2, version);
                ps.setString(3, environment);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<ScoringRun>empty();
                    }
                    return Optional.of(new ScoringRun(rs.getString(1), rs.getString(2), Long.parseLong(rs.getString(3)), rs.getString(4),
                            Long.parseLong(rs.getString(5)), rs.getObject(6, java.time.OffsetDateTime.class).toInstant()));
                }
            }
        });
    }

    public Optional<StoredReference> reference(String modelName, int version) {
        return tx.inTransaction(em -> {
            long versionId = versionId(em, modelName, version);
            return jdbc(em, c -> {
                try (PreparedStatement ps = c.prepareStatement("select source_table, source_version, profile::text from reference_profiles"
                        + " where model_version_id = ?")) {
                    ps.setLong(1, versionId);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? Optional.of(new StoredReference(rs.getString(1), rs.getLong(2), rs.getString(3)))
                                : Optional.<StoredReference>empty();
                    }
                }
            });
        });
    }

    /** Stores a version's reference profile once; a repeat (a retried activity) keeps the first and returns it. */
    public StoredReference storeReference(String modelName, int version, String sourceTable, long sourceVersion, String profileJson,
                                          String actor) {
        Objects.requireNonNull(profileJson, "profileJson");
        tx.inTransaction(em -> {
            long versionId = versionId(em, modelName, version);
            int inserted = jdbc(em, c -> {
                try (PreparedStatement ps = c.prepareStatement("insert into reference_profiles (model_version_id, source_table,"
                        + " source_version, profile) values (?, ?, ?, cast(? as jsonb)) on conflict (model_version_id) do nothing")) {
                    ps.setLong(1, versionId);
                    ps.setString(2, sourceTable);
                    ps.setLong(3, sourceVersion);
                    ps.setString(4, profileJson);
                    return ps.executeUpdate();
                }
            });
            if (inserted == 1) {
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("sourceTable", sourceTable);
                details.put("sourceVersion", sourceVersion);
                em.persist(new AuditLogRow(now(), actor, "monitoring.reference_computed", AuditOutcome.SUCCESS, modelName, version,
                        null, "Reference profile of " + modelName + " v" + version + " computed from its training snapshot "
                                + sourceTable + " @ Delta v" + sourceVersion, details));
            }
            return null;
        });
        return reference(modelName, version).orElseThrow();
    }

    /**
     * Whether monitoring may start a retrain of the model: not while a training run of it is RUNNING, and not within
     * {@code cooldownSeconds} of a retrain that monitoring started.
     */
    public RetrainGuard retrainGuard(String modelName, long cooldownSeconds) {
        return tx.inTransaction(em -> {
            long modelId = modelId(em, modelName);
            return jdbc(em, c -> {
                String running = null;
                try (PreparedStatement ps = c.prepareStatement("select run_key from training_runs where model_id = ? and status = 'RUNNING'"
                        + " order by started_at desc limit 1")) {
                    ps.setLong(1, modelId);
                    try (ResultSet rs = ps.executeQuery()) {
                        running = rs.next() ? rs.getString(1) : null;
                    }
                }
                try (PreparedStatement ps = c.prepareStatement("select retrain_run_key, measured_at from monitoring_runs where model_id = ?"
                        + " and decision = 'RETRAIN_STARTED' and measured_at > now() - make_interval(secs => ?)"
                        + " order by measured_at desc limit 1")) {
                    ps.setLong(1, modelId);
                    ps.setDouble(2, cooldownSeconds);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? new RetrainGuard(running, rs.getString(1), rs.getTimestamp(2).toInstant())
                                : new RetrainGuard(running, null, null);
                    }
                }
            });
        });
    }

    /**
     * Records a monitoring run, its statistics and its audit row in one transaction; a repeat of the run key (a
     * retried activity) changes nothing and returns the run recorded first.
     */
    public MonitoringRun recordRun(MonitoringRun run, List<Statistic> statistics) {
        Objects.requireNonNull(run.runKey(), "runKey");
        tx.inTransaction(em -> {
            long modelId = modelId(em, run.modelName());
            Instant at = now();
            boolean inserted = jdbc(em, c -> {
                Long runId;
                try (PreparedStatement ps = c.prepareStatement("insert into monitoring_runs (run_key, model_id, model_version, environment,"
                        + " decision, reason, retrain_run_key, window_from, window_to, reference_rows, current_rows, report_uri, findings,"
                        + " requested_by, measured_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, cast(? as jsonb), ?, ?)"
                        + " on conflict (run_key) do nothing returning id")) {
                    ps.setString(1, run.runKey());
                    ps.setLong(2, modelId);
                    ps.setObject(3, run.modelVersion(), Types.INTEGER);
                    ps.setString(4, run.environment());
                    ps.setString(5, run.decision());
                    ps.setString(6, run.reason());
                    ps.setString(7, run.retrainRunKey());
                    ps.setString(8, run.windowFrom());
                    ps.setString(9, run.windowTo());
                    ps.setObject(10, run.referenceRows(), Types.BIGINT);
                    ps.setObject(11, run.currentRows(), Types.BIGINT);
                    ps.setString(12, run.reportUri());
                    ps.setString(13, json(run.findings() == null ? List.of() : run.findings()));
                    ps.setString(14, run.requestedBy());
                    ps.setTimestamp(15, Timestamp.from(at));
                    try (ResultSet rs = ps.executeQuery()) {
                        runId = rs.next() ? rs.getLong(1) : null;
                    }
                }
                if (runId == null) {
                    return false;
                }
                try (PreparedStatement ps = c.prepareStatement("insert into monitoring_statistics (monitoring_run_id, model_id, feature,"
                        + " statistic, value, severity, measured_at) values (?, ?, ?, ?, ?, ?, ?)")) {
                    for (Statistic s : statistics) {
                        if (Double.isNaN(s.value()) || Double.isInfinite(s.value())) {
                            continue;
                        }
                        ps.setLong(1, runId);
                        ps.setLong(2, modelId);
                        ps.setString(3, s.feature());
                        ps.setString(4, s.statistic());
                        ps.setDouble(5, s.value());
                        ps.setString(6, s.severity());
                        ps.setTimestamp(7, Timestamp.from(at));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                return true;
            });
            if (!inserted) {
                return null;
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("decision", run.decision());
            details.put("environment", run.environment());
            if (run.retrainRunKey() != null) {
                details.put("retrainRunKey", run.retrainRunKey());
            }
            if (run.reportUri() != null) {
                details.put("report", run.reportUri());
            }
            if (run.findings() != null && !run.findings().isEmpty()) {
                details.put("findings", run.findings());
            }
            AuditOutcome outcome = "NEEDS_ATTENTION".equals(run.decision()) ? AuditOutcome.FAILURE : AuditOutcome.SUCCESS;
            em.persist(new AuditLogRow(at, run.requestedBy(), "monitoring.run", outcome, run.modelName(), run.modelVersion(),
                    run.runKey(), run.decision() + ": " + run.reason(), details));
            return null;
        });
        return run(run.runKey()).orElseThrow();
    }

    public Optional<MonitoringRun> run(String runKey) {
        return tx.inTransaction(em -> runs(em, "r.run_key = ?", ps -> ps.setString(1, runKey), 1).stream().findFirst());
    }

    /** The newest {@code limit} runs of a model, newest first. */
    public List<MonitoringRun> runs(String modelName, int limit) {
        return tx.inTransaction(em -> {
            long modelId = modelId(em, modelName);
            return runs(em, "r.model_id = ?", ps -> ps.setLong(1, modelId), limit);
        });
    }

    /**
     * The feature a series request names, checked: auc and auc_drop belong to {@link #MODEL} (the default for them);
     * an unknown statistic, or a feature statistic without a feature, is INVALID_REQUEST.
     */
    public static String seriesFeature(String feature, String statistic) {
        if (!STATISTICS.contains(statistic)) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Unknown statistic '" + statistic + "'; monitoring records "
                    + String.join(", ", STATISTICS) + ".");
        }
        boolean ofModel = statistic.equals("auc") || statistic.equals("auc_drop");
        if (feature == null) {
            if (ofModel) {
                return MODEL;
            }
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "Name the feature whose " + statistic + " to show (--feature F, or ?feature=F;"
                    + " " + PREDICTION + " for the score distribution).");
        }
        return feature;
    }

    /** The time series of one statistic of one feature of a model, oldest first. */
    public List<Point> series(String modelName, String feature, String statistic) {
        return series(modelName, null, feature, statistic, Integer.MAX_VALUE);
    }

    /**
     * The latest {@code limit} points of one statistic of one feature of a model, in every environment or only in
     * {@code environment} (null: all), oldest first. Unknown model: UNKNOWN_MODEL; a series without points is empty.
     */
    public List<Point> series(String modelName, String environment, String feature, String statistic, int limit) {
        if (limit < 1) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "a series limit must be at least 1, got " + limit);
        }
        return tx.inTransaction(em -> {
            long modelId = modelId(em, modelName);
            return jdbc(em, c -> {
                try (PreparedStatement ps = c.prepareStatement("select r.run_key, s.measured_at, s.value, s.severity, r.model_version,"
                        + " r.environment from monitoring_statistics s join monitoring_runs r on r.id = s.monitoring_run_id"
                        + " where s.model_id = ? and s.feature = ? and s.statistic = ? and (cast(? as text) is null or r.environment = ?)"
                        + " order by s.measured_at desc, s.id desc limit ?")) {
                    ps.setLong(1, modelId);
                    ps.setString(2, feature);
                    ps.setString(3, statistic);
                    ps.setString(4, environment);
                    ps.setString(5, environment);
                    ps.setInt(6, limit);
                    List<Point> points = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            int version = rs.getInt(5);
                            points.add(new Point(rs.getString(1), rs.getTimestamp(2).toInstant(), rs.getDouble(3), rs.getString(4),
                                    rs.wasNull() ? null : version, rs.getString(6)));
                        }
                    }
                    java.util.Collections.reverse(points);
                    return points;
                }
            });
        });
    }

    /** The series a model has points in, by feature then statistic; unknown model: UNKNOWN_MODEL. */
    public List<SeriesName> seriesNames(String modelName) {
        return tx.inTransaction(em -> {
            long modelId = modelId(em, modelName);
            return jdbc(em, c -> {
                try (PreparedStatement ps = c.prepareStatement("select distinct feature, statistic from monitoring_statistics"
                        + " where model_id = ? order by feature, statistic")) {
                    ps.setLong(1, modelId);
                    List<SeriesName> names = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            names.add(new SeriesName(rs.getString(1), rs.getString(2)));
                        }
                    }
                    return names;
                }
            });
        });
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Plain JDBC on the transaction's own connection, so the rows commit (or roll back) with its audit row. */
    private static <T> T jdbc(EntityManager em, Work<T> work) {
        return em.unwrap(Session.class).doReturningWork(work::run);
    }

    private List<MonitoringRun> runs(EntityManager em, String where, Binder binder, int limit) {
        return jdbc(em, c -> {
            try (PreparedStatement ps = c.prepareStatement("select r.run_key, m.name, r.model_version, r.environment, r.decision, r.reason,"
                    + " r.retrain_run_key, r.window_from, r.window_to, r.reference_rows, r.current_rows, r.report_uri,"
                    + " r.findings::text, r.requested_by, r.measured_at from monitoring_runs r join models m on m.id = r.model_id"
                    + " where " + where + " order by r.measured_at desc, r.id desc limit " + limit)) {
                binder.bind(ps);
                List<MonitoringRun> runs = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        runs.add(new MonitoringRun(rs.getString(1), rs.getString(2), (Integer) rs.getObject(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                                (Long) rs.getObject(10), (Long) rs.getObject(11), rs.getString(12), strings(rs.getString(13)),
                                rs.getString(14), rs.getTimestamp(15).toInstant()));
                    }
                }
                return runs;
            }
        });
    }

    private static long modelId(EntityManager em, String modelName) {
        return em.createQuery("select m.id from ModelRow m where m.name = :n", Long.class).setParameter("n", modelName)
                .getResultStream().findFirst().orElseThrow(() -> new TrellisException(ErrorCode.UNKNOWN_MODEL,
                        "No model named '" + modelName + "' is registered. Apply its spec first (trellis models apply FILE)."));
    }

    private static long versionId(EntityManager em, String modelName, int version) {
        long modelId = modelId(em, modelName);
        return em.createQuery("select v.id from ModelVersionRow v where v.modelId = :m and v.version = :v", Long.class)
                .setParameter("m", modelId).setParameter("v", version).getResultStream().findFirst()
                .orElseThrow(() -> new TrellisException(ErrorCode.UNKNOWN_MODEL_VERSION,
                        "Model " + modelName + " has no version " + version + "; list its versions with trellis models show " + modelName));
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> strings(String json) {
        try {
            return json == null ? List.of() : JSON.readValue(json, new TypeReference<List<String>>() {});
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
