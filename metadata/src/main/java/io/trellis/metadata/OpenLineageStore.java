package io.trellis.metadata;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * OpenLineage run events in PostgreSQL (migration V8): each event as the JSON document that was sent, append-only,
 * and each attempt to deliver it to an HTTP endpoint. Plain SQL; the documents are built by the activities with the
 * OpenLineage Java client, this store only keeps them.
 */
public final class OpenLineageStore {
    private final Transactions tx;

    OpenLineageStore(Transactions tx) {
        this.tx = tx;
    }

    /** What to store for one event: the columns copied out of the document, and the document itself. */
    public record NewEvent(String runKey, String eventType, Instant eventTime, UUID runId, String jobNamespace, String jobName,
                           UUID parentRunId, String eventJson) {
        public NewEvent {
            Objects.requireNonNull(runKey, "runKey");
            Objects.requireNonNull(eventType, "eventType");
            Objects.requireNonNull(eventTime, "eventTime");
            Objects.requireNonNull(runId, "runId");
            Objects.requireNonNull(jobNamespace, "jobNamespace");
            Objects.requireNonNull(jobName, "jobName");
            Objects.requireNonNull(eventJson, "eventJson");
        }
    }

    /**
     * A stored event with its latest delivery attempt ({@code deliveryStatus} null when it was never sent: no endpoint
     * configured).
     */
    public record StoredEvent(long id, String runKey, String eventType, Instant eventTime, UUID runId, String jobNamespace,
                              String jobName, UUID parentRunId, String eventJson, String deliveryStatus, String deliveryEndpoint,
                              Integer deliveryHttpStatus, String deliveryError, int deliveryAttempts) {}

    /**
     * Stores an event and returns its id. An event of the same type for the same OpenLineage run was already stored
     * (a repeated call): nothing is written and the earlier event's id is returned.
     */
    public long append(NewEvent e) {
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into openlineage_events (run_key, event_type, event_time, run_id,"
                    + " job_namespace, job_name, parent_run_id, event) values (?, ?, ?, ?, ?, ?, ?, ?::jsonb)"
                    + " on conflict (run_id, event_type) do nothing returning id")) {
                ps.setString(1, e.runKey());
                ps.setString(2, e.eventType());
                ps.setTimestamp(3, Timestamp.from(e.eventTime()));
                ps.setObject(4, e.runId());
                ps.setString(5, e.jobNamespace());
                ps.setString(6, e.jobName());
                if (e.parentRunId() == null) {
                    ps.setNull(7, Types.OTHER);
                } else {
                    ps.setObject(7, e.parentRunId());
                }
                ps.setString(8, e.eventJson());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return rs.getLong(1);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("select id from openlineage_events where run_id = ? and event_type = ?")) {
                ps.setObject(1, e.runId());
                ps.setString(2, e.eventType());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** Records one attempt to deliver event {@code eventId} to {@code endpoint}. */
    public void recordDelivery(long eventId, String endpoint, boolean delivered, Integer httpStatus, String error) {
        tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into openlineage_deliveries (event_id, endpoint, status, http_status,"
                    + " error) values (?, ?, ?, ?, ?)")) {
                ps.setLong(1, eventId);
                ps.setString(2, endpoint);
                ps.setString(3, delivered ? "DELIVERED" : "FAILED");
                if (httpStatus == null) {
                    ps.setNull(4, Types.INTEGER);
                } else {
                    ps.setInt(4, httpStatus);
                }
                ps.setString(5, error);
                ps.executeUpdate();
                return null;
            }
        });
    }

    /** The events of one Trellis run (workflow ID), in the order they were stored. */
    public List<StoredEvent> events(String runKey) {
        Objects.requireNonNull(runKey, "runKey");
        return tx.inConnection(c -> {
            try (PreparedStatement ps = c.prepareStatement("select e.id, e.run_key, e.event_type, e.event_time, e.run_id, e.job_namespace,"
                    + " e.job_name, e.parent_run_id, e.event::text, d.status, d.endpoint, d.http_status, d.error,"
                    + " (select count(*) from openlineage_deliveries x where x.event_id = e.id)"
                    + " from openlineage_events e"
                    + " left join lateral (select status, endpoint, http_status, error from openlineage_deliveries dd"
                    + "   where dd.event_id = e.id order by dd.id desc limit 1) d on true"
                    + " where e.run_key = ? order by e.id")) {
                ps.setString(1, runKey);
                try (ResultSet rs = ps.executeQuery()) {
                    List<StoredEvent> out = new ArrayList<>();
                    while (rs.next()) {
                        int httpCode = rs.getInt(12);
                        Integer http = rs.wasNull() ? null : httpCode;
                        out.add(new StoredEvent(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
                                rs.getObject(5, UUID.class), rs.getString(6), rs.getString(7), rs.getObject(8, UUID.class),
                                rs.getString(9), rs.getString(10), rs.getString(11), http, rs.getString(13),
                                rs.getInt(14)));
                    }
                    return out;
                }
            }
        });
    }
}
