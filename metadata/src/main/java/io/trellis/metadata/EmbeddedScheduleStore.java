package io.trellis.metadata;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * The embedded mode's schedule definitions and pause state ({@code embedded_schedules}, migration V6). The embedded
 * Temporal server keeps its scheduler workflows in memory, so every change is written through here and
 * {@code trellis api} re-creates the schedules from these rows when it starts. Plain SQL with bound parameters.
 */
public final class EmbeddedScheduleStore {
    /** One schedule as stored; {@code kind} and {@code overlap} are the enum names of the workflow's types. */
    public record StoredSchedule(String scheduleId, String kind, String modelName, String environment, String cron, String timeZone,
                                 String overlap, boolean paused, String note, String updatedBy, Instant updatedAt) {}

    private final Transactions tx;

    public EmbeddedScheduleStore(MetadataStore store) {
        this.tx = store.transactions();
    }

    /** Records a new or changed definition; keeps the stored pause state of an existing one. */
    public void save(String scheduleId, String kind, String modelName, String environment, String cron, String timeZone, String overlap,
                     String actor) {
        tx.inTransaction(em -> em.createNativeQuery("insert into embedded_schedules"
                        + " (schedule_id, kind, model_name, environment, cron, time_zone, overlap, paused, note, updated_by, updated_at)"
                        + " values (?1, ?2, ?3, ?4, ?5, ?6, ?7, false, null, ?8, ?9)"
                        + " on conflict (schedule_id) do update set kind = excluded.kind, model_name = excluded.model_name,"
                        + " environment = excluded.environment, cron = excluded.cron, time_zone = excluded.time_zone,"
                        + " overlap = excluded.overlap, updated_by = excluded.updated_by, updated_at = excluded.updated_at")
                .setParameter(1, scheduleId).setParameter(2, kind).setParameter(3, modelName).setParameter(4, environment)
                .setParameter(5, cron).setParameter(6, timeZone).setParameter(7, overlap).setParameter(8, actor)
                .setParameter(9, Timestamp.from(Registry.now())).executeUpdate());
    }

    public void setPaused(String scheduleId, boolean paused, String note, String actor) {
        tx.inTransaction(em -> em.createNativeQuery("update embedded_schedules set paused = ?2, note = ?3, updated_by = ?4, updated_at = ?5"
                        + " where schedule_id = ?1")
                .setParameter(1, scheduleId).setParameter(2, paused).setParameter(3, note).setParameter(4, actor)
                .setParameter(5, Timestamp.from(Registry.now())).executeUpdate());
    }

    public void delete(String scheduleId) {
        tx.inTransaction(em -> em.createNativeQuery("delete from embedded_schedules where schedule_id = ?1")
                .setParameter(1, scheduleId).executeUpdate());
    }

    /** Every stored schedule, by ID. */
    public List<StoredSchedule> all() {
        return tx.inTransaction(em -> {
            @SuppressWarnings("unchecked")
            List<Object[]> rows = em.createNativeQuery("select schedule_id, kind, model_name, environment, cron, time_zone, overlap,"
                    + " paused, note, updated_by, updated_at from embedded_schedules order by schedule_id").getResultList();
            return rows.stream().map(r -> new StoredSchedule((String) r[0], (String) r[1], (String) r[2], (String) r[3], (String) r[4],
                    (String) r[5], (String) r[6], (Boolean) r[7], (String) r[8], (String) r[9], toInstant(r[10]))).toList();
        });
    }

    private static Instant toInstant(Object value) {
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        return null;
    }
}
