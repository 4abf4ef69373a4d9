package io.trellis.metadata;

import io.trellis.metadata.ResourceUsageRecord.UsageOutcome;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Resource usage per activity attempt (V10's {@code resource_usage}) and its rollups. Recording is idempotent on
 * the attempt (workflow run, activity id, attempt): a repeat keeps the first row.
 */
public final class ResourceUsageStore {
    private static final String TOTALS = " runs, attempts, unsuccessful_attempts, tasks, executor_run_ms, bytes_read, bytes_written,"
            + " shuffle_read_bytes, shuffle_write_bytes, peak_execution_memory_bytes, wall_ms, core_hours, memory_gb_hours, gb_read,"
            + " gb_written, first_recorded_at, last_recorded_at";

    private final Transactions tx;

    ResourceUsageStore(Transactions tx) {
        this.tx = tx;
    }

    /** What recent finished runs of a model cost per source row: the basis of a budget estimate. */
    public record RunBasis(String runKey, long sourceRows, UsageTotals usage) {}

    /** Stores one attempt's usage; false when that attempt was recorded already (the first row stays). */
    public boolean record(ResourceUsageRecord r) {
        Objects.requireNonNull(r.workflowId(), "workflowId");
        Objects.requireNonNull(r.outcome(), "outcome");
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into resource_usage (workflow_id, run_id, activity_id, activity_type,"
                    + " attempt, step, model_name, environment, outcome, spark_job_group, jobs, tasks, failed_tasks, executor_run_ms,"
                    + " executor_cpu_ns, bytes_read, records_read, bytes_written, records_written, shuffle_read_bytes, shuffle_write_bytes,"
                    + " peak_execution_memory_bytes, memory_byte_ms, wall_ms) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    + " ?, ?, ?, ?, ?) on conflict (run_id, activity_id, attempt) do nothing")) {
                int i = 1;
                ps.setString(i++, r.workflowId());
                ps.setString(i++, r.runId());
                ps.setString(i++, r.activityId());
                ps.setString(i++, r.activityType());
                ps.setInt(i++, r.attempt());
                ps.setString(i++, r.step());
                ps.setString(i++, r.modelName());
                if (r.environment() == null) {
                    ps.setNull(i++, Types.VARCHAR);
                } else {
                    ps.setString(i++, r.environment());
                }
                ps.setString(i++, r.outcome().name());
                ps.setString(i++, r.sparkJobGroup());
                for (long v : new long[] {r.jobs(), r.tasks(), r.failedTasks(), r.executorRunMs(), r.executorCpuNs(), r.bytesRead(),
                        r.recordsRead(), r.bytesWritten(), r.recordsWritten(), r.shuffleReadBytes(), r.shuffleWriteBytes(),
                        r.peakExecutionMemoryBytes()}) {
                    ps.setLong(i++, v);
                }
                ps.setBigDecimal(i++, BigDecimal.valueOf(r.memoryByteMs()));
                ps.setLong(i, r.wallMs());
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Every recorded attempt of a workflow (a retrain's run key), oldest first. */
    public List<ResourceUsageRecord> attempts(String workflowId) {
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("select workflow_id, run_id, activity_id, activity_type, attempt, step, model_name,"
                    + " environment, outcome, spark_job_group, jobs, tasks, failed_tasks, executor_run_ms, executor_cpu_ns, bytes_read,"
                    + " records_read, bytes_written, records_written, shuffle_read_bytes, shuffle_write_bytes, peak_execution_memory_bytes,"
                    + " memory_byte_ms, wall_ms, recorded_at from resource_usage where workflow_id = ? order by recorded_at, id")) {
                ps.setString(1, workflowId);
                List<ResourceUsageRecord> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new ResourceUsageRecord(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5),
                                rs.getString(6), rs.getString(7), rs.getString(8), UsageOutcome.valueOf(rs.getString(9)), rs.getString(10),
                                rs.getLong(11), rs.getLong(12), rs.getLong(13), rs.getLong(14), rs.getLong(15), rs.getLong(16),
                                rs.getLong(17), rs.getLong(18), rs.getLong(19), rs.getLong(20), rs.getLong(21), rs.getLong(22),
                                rs.getBigDecimal(23).longValue(), rs.getLong(24), rs.getTimestamp(25).toInstant()));
                    }
                }
                return out;
            }
        });
    }

    /**
     * Rollups, newest first for runs and days, by name otherwise; {@code modelName} (nullable) filters. The view is
     * picked from the enum: no caller text reaches the SQL but through parameters.
     */
    public List<UsageTotals> rollup(UsageTotals.By by, String modelName, int limit) {
        String sql = switch (by) {
            case RUN -> "select workflow_id, model_name, 1 as runs," + TOTALS.substring(TOTALS.indexOf(',') + 1)
                    + " from resource_usage_by_run where (cast(? as text) is null or model_name = ?) order by last_recorded_at desc limit ?";
            case MODEL -> "select model_name, model_name," + TOTALS
                    + " from resource_usage_by_model where (cast(? as text) is null or model_name = ?) order by model_name limit ?";
            case ENVIRONMENT -> "select environment, model_name," + TOTALS
                    + " from resource_usage_by_environment where (cast(? as text) is null or model_name = ?)"
                    + " order by environment, model_name limit ?";
            case DAY -> "select cast(day as text), model_name," + TOTALS
                    + " from resource_usage_by_day where (cast(? as text) is null or model_name = ?) order by day desc, model_name limit ?";
        };
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setString(1, modelName);
                ps.setString(2, modelName);
                ps.setInt(3, limit);
                return totals(ps);
            }
        });
    }

    /** The totals of one workflow (a retrain's run key), or all zeros when nothing was recorded for it. */
    public UsageTotals run(String workflowId) {
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("select workflow_id, model_name, 1 as runs,"
                    + TOTALS.substring(TOTALS.indexOf(',') + 1) + " from resource_usage_by_run where workflow_id = ?")) {
                ps.setString(1, workflowId);
                List<UsageTotals> rows = totals(ps);
                return rows.isEmpty() ? new UsageTotals(workflowId, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null)
                        : rows.get(0);
            }
        });
    }

    /** What the model used since {@code since} (all runs and steps together), for monthly budgets. */
    public UsageTotals modelSince(String modelName, Instant since) {
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("select model_name, model_name, count(distinct workflow_id), count(*),"
                    + " count(*) filter (where outcome <> 'SUCCEEDED'), coalesce(sum(tasks), 0), coalesce(sum(executor_run_ms), 0),"
                    + " coalesce(sum(bytes_read), 0), coalesce(sum(bytes_written), 0), coalesce(sum(shuffle_read_bytes), 0),"
                    + " coalesce(sum(shuffle_write_bytes), 0), coalesce(max(peak_execution_memory_bytes), 0), coalesce(sum(wall_ms), 0),"
                    + " coalesce(sum(executor_run_ms), 0) / 3600000.0, coalesce(sum(memory_byte_ms), 0) / 1073741824.0 / 3600000.0,"
                    + " coalesce(sum(bytes_read), 0) / 1073741824.0, coalesce(sum(bytes_written), 0) / 1073741824.0, min(recorded_at),"
                    + " max(recorded_at) from resource_usage where model_name = ? and recorded_at >= ? group by model_name")) {
                ps.setString(1, modelName);
                ps.setTimestamp(2, Timestamp.from(since));
                List<UsageTotals> rows = totals(ps);
                return rows.isEmpty() ? new UsageTotals(modelName, modelName, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, null)
                        : rows.get(0);
            }
        });
    }

    /**
     * The model's most recent finished retrains that recorded usage, with the row count of the snapshot each trained
     * on (newest first): what a new run's cost is estimated from.
     */
    public List<RunBasis> recentRuns(String modelName, int limit) {
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("select u.workflow_id, u.model_name, 1 as runs,"
                    + " u.attempts, u.unsuccessful_attempts, u.tasks, u.executor_run_ms, u.bytes_read, u.bytes_written, u.shuffle_read_bytes,"
                    + " u.shuffle_write_bytes, u.peak_execution_memory_bytes, u.wall_ms, u.core_hours, u.memory_gb_hours, u.gb_read,"
                    + " u.gb_written, u.first_recorded_at, u.last_recorded_at, d.row_count from resource_usage_by_run u"
                    + " join training_runs r on r.run_key = u.workflow_id"
                    + " join validation_reports v on v.training_run_id = r.id"
                    + " join dataset_versions d on d.id = v.dataset_version_id"
                    + " where u.model_name = ? and r.status <> 'RUNNING' and d.row_count > 0"
                    + " order by r.started_at desc limit ?")) {
                ps.setString(1, modelName);
                ps.setInt(2, limit);
                List<RunBasis> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new RunBasis(rs.getString(1), rs.getLong(20), totals(rs)));
                    }
                }
                return out;
            }
        });
    }

    private static List<UsageTotals> totals(PreparedStatement ps) throws SQLException {
        List<UsageTotals> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(totals(rs));
            }
        }
        return out;
    }

    private static UsageTotals totals(ResultSet rs) throws SQLException {
        Timestamp first = rs.getTimestamp(18);
        Timestamp last = rs.getTimestamp(19);
        return new UsageTotals(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6),
                rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getLong(10), rs.getLong(11), rs.getLong(12), rs.getLong(13),
                rs.getDouble(14), rs.getDouble(15), rs.getDouble(16), rs.getDouble(17), first == null ? null : first.toInstant(),
                last == null ? null : last.toInstant());
    }
}
