package io.trellis.metadata;

import io.trellis.spec.ErrorCode;
import io.trellis.spec.TrellisException;
import jakarta.persistence.TypedQuery;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Filtered, keyset-paged reads for the API. Pages are keyed on row ids, so a page never repeats or skips a row
 * when rows are added between requests (offset paging would). Runs page newest first, the audit log oldest
 * first (an export reads it in the order it was written).
 */
public final class RegistryQueries {
    public static final int MAX_PAGE_SIZE = 1000;

    private final Transactions tx;

    RegistryQueries(Transactions tx) {
        this.tx = tx;
    }

    /** A model with its latest version number (null before its first run) and its number of versions. */
    public record ModelSummary(String name, String specSha256, Instant createdAt, Instant updatedAt, Integer latestVersion,
                               long versionCount) {}

    /** One page and the cursor of the next (null on the last page). */
    public record Page<T>(List<T> items, Long nextCursor) {}

    /** Filter for {@link #runs}: null fields match everything; {@code beforeId} is the cursor of the previous page. */
    public record RunFilter(String modelName, RunStatus status, String triggeredBy, Long beforeId, int limit) {}

    /**
     * Filter for {@link #audit}: null fields match everything; {@code from} is inclusive, {@code to} exclusive;
     * {@code afterId} is the cursor of the previous page.
     */
    public record AuditFilter(String modelName, Integer modelVersion, String actor, String action, String runKey,
                              AuditOutcome outcome, Instant from, Instant to, Long afterId, int limit) {}

    public List<ModelSummary> models() {
        return tx.inTransaction(em -> em.createQuery(
                        "select m.name, m.specSha256, m.createdAt, m.updatedAt,"
                                + " (select max(v.version) from ModelVersionRow v where v.modelId = m.id),"
                                + " (select count(v) from ModelVersionRow v where v.modelId = m.id)"
                                + " from ModelRow m order by m.name", Object[].class)
                .getResultList().stream()
                .map(r -> new ModelSummary((String) r[0], (String) r[1], (Instant) r[2], (Instant) r[3], (Integer) r[4], (Long) r[5]))
                .toList());
    }

    /** Runs matching the filter, newest first. An unknown model fails with UNKNOWN_MODEL. */
    public Page<RunRecord> runs(RunFilter filter) {
        int limit = checkLimit(filter.limit());
        return tx.inTransaction(em -> {
            Long modelId = filter.modelName() == null ? null : Registry.requireModel(em, filter.modelName()).id;
            StringBuilder jpql = new StringBuilder("select r, m.name from TrainingRunRow r join ModelRow m on m.id = r.modelId where 1 = 1");
            Map<String, Object> params = new LinkedHashMap<>();
            if (modelId != null) {
                jpql.append(" and r.modelId = :model");
                params.put("model", modelId);
            }
            if (filter.status() != null) {
                jpql.append(" and r.status = :status");
                params.put("status", filter.status());
            }
            if (filter.triggeredBy() != null) {
                jpql.append(" and r.triggeredBy = :by");
                params.put("by", filter.triggeredBy());
            }
            if (filter.beforeId() != null) {
                jpql.append(" and r.id < :before");
                params.put("before", filter.beforeId());
            }
            jpql.append(" order by r.id desc");
            TypedQuery<Object[]> q = em.createQuery(jpql.toString(), Object[].class).setMaxResults(limit + 1);
            params.forEach(q::setParameter);
            List<Object[]> rows = q.getResultList();
            List<RunRecord> items = new ArrayList<>();
            for (int i = 0; i < Math.min(limit, rows.size()); i++) {
                items.add(((TrainingRunRow) rows.get(i)[0]).toRecord((String) rows.get(i)[1]));
            }
            return new Page<>(items, rows.size() > limit ? items.get(items.size() - 1).id() : null);
        });
    }

    /** Audit entries matching the filter, oldest first. */
    public Page<AuditEntry> audit(AuditFilter filter) {
        int limit = checkLimit(filter.limit());
        if (filter.from() != null && filter.to() != null && !filter.from().isBefore(filter.to())) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "The time range is empty: from (" + filter.from()
                    + ") must be before to (" + filter.to() + ").");
        }
        return tx.inTransaction(em -> {
            StringBuilder jpql = new StringBuilder("from AuditLogRow a where 1 = 1");
            Map<String, Object> params = new LinkedHashMap<>();
            add(jpql, params, "a.modelName = :model", "model", filter.modelName());
            add(jpql, params, "a.modelVersion = :version", "version", filter.modelVersion());
            add(jpql, params, "a.actor = :actor", "actor", filter.actor());
            add(jpql, params, "a.action = :action", "action", filter.action());
            add(jpql, params, "a.runKey = :run", "run", filter.runKey());
            add(jpql, params, "a.outcome = :outcome", "outcome", filter.outcome());
            add(jpql, params, "a.occurredAt >= :from", "from", filter.from());
            add(jpql, params, "a.occurredAt < :to", "to", filter.to());
            add(jpql, params, "a.id > :after", "after", filter.afterId());
            jpql.append(" order by a.id");
            TypedQuery<AuditLogRow> q = em.createQuery(jpql.toString(), AuditLogRow.class).setMaxResults(limit + 1);
            params.forEach(q::setParameter);
            List<AuditLogRow> rows = q.getResultList();
            List<AuditEntry> items = rows.stream().limit(limit).map(AuditLogRow::toEntry).toList();
            return new Page<>(items, rows.size() > limit ? items.get(items.size() - 1).id() : null);
        });
    }

    /**
     * A model's versions in version order, {@code limit} at a time after version {@code afterVersion} (the previous
     * page's cursor; null for the first page). Keyset paging on the unique (model, version) index: a page never
     * repeats or skips a version, even while new versions are registered. An unknown model fails with UNKNOWN_MODEL.
     */
    public Page<ModelVersionRecord> versions(String modelName, Integer afterVersion, int limit) {
        checkLimit(limit);
        return tx.inTransaction(em -> {
            ModelRow model = Registry.requireModel(em, modelName);
            List<Object[]> rows = em.createQuery("select v, r.runKey from ModelVersionRow v join TrainingRunRow r on r.id = v.trainingRunId"
                            + " where v.modelId = :m and v.version > :after order by v.version", Object[].class)
                    .setParameter("m", model.id).setParameter("after", afterVersion == null ? 0 : afterVersion)
                    .setMaxResults(limit + 1).getResultList();
            List<ModelVersionRecord> items = rows.stream().limit(limit)
                    .map(r -> ((ModelVersionRow) r[0]).toRecord(model.name, (String) r[1])).toList();
            return new Page<>(items, rows.size() > limit ? (long) items.get(items.size() - 1).version() : null);
        });
    }

    /** The version a run registered, if it got that far. */
    public java.util.Optional<ModelVersionRecord> versionOfRun(String runKey) {
        return tx.inTransaction(em -> em.createQuery("select v, m.name from ModelVersionRow v join ModelRow m on m.id = v.modelId"
                        + " join TrainingRunRow r on r.id = v.trainingRunId where r.runKey = :k", Object[].class)
                .setParameter("k", runKey).getResultStream().findFirst()
                .map(r -> ((ModelVersionRow) r[0]).toRecord((String) r[1], runKey)));
    }

    /** Number of runs per status, for the metrics endpoint. */
    public Map<RunStatus, Long> runCountsByStatus() {
        return tx.inTransaction(em -> {
            Map<RunStatus, Long> counts = new LinkedHashMap<>();
            for (RunStatus s : RunStatus.values()) {
                counts.put(s, 0L);
            }
            em.createQuery("select r.status, count(r) from TrainingRunRow r group by r.status", Object[].class).getResultList()
                    .forEach(r -> counts.put((RunStatus) r[0], (Long) r[1]));
            return counts;
        });
    }

    /** A trivial round trip, for readiness checks. */
    public void ping() {
        tx.inTransaction(em -> em.createNativeQuery("select 1").getSingleResult());
    }

    private static void add(StringBuilder jpql, Map<String, Object> params, String clause, String name, Object value) {
        if (value != null) {
            jpql.append(" and ").append(clause);
            params.put(name, value);
        }
    }

    private static int checkLimit(int limit) {
        if (limit < 1 || limit > MAX_PAGE_SIZE) {
            throw new TrellisException(ErrorCode.INVALID_REQUEST, "limit must be between 1 and " + MAX_PAGE_SIZE + ", was " + limit + ".");
        }
        return limit;
    }

}
