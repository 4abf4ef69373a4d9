-- Views and functions for auditors who query PostgreSQL directly (documented in the README, section
-- "Compliance"). Trellis' own lineage queries (LineageQueries) call the same functions, so the CLI, the API
-- and SQL users get the same answers. Repeatable migration: re-applied whenever this file changes.

-- The audit trail with its hash chain, oldest first by chain position.
CREATE OR REPLACE VIEW audit_trail AS
SELECT a.chain_seq, a.id AS audit_id, a.occurred_at, a.actor, a.action, a.outcome, a.model_name, a.model_version,
       a.run_key, a.message, a.details, a.prev_hash, a.row_hash
FROM audit_log a;

-- Every pointer a model version has held: what was live (or candidate) where, from when until when.
CREATE OR REPLACE VIEW deployment_history AS
SELECT m.name AS model_name, v.version, e.name AS environment, e.ordinal AS environment_ordinal, d.role,
       d.valid_from, d.valid_to, d.deployed_by, d.reason, d.run_key
FROM deployments d
JOIN environments e ON e.id = d.environment_id
JOIN model_versions v ON v.id = d.model_version_id
JOIN models m ON m.id = v.model_id;

-- Who requested and who approved (or rejected) each promotion.
CREATE OR REPLACE VIEW promotion_approvals AS
SELECT m.name AS model_name, v.version, e.name AS target_environment, p.promotion_key, p.status, p.requested_by,
       p.reason AS request_reason, p.decided_by, p.decision, p.decision_reason, p.decided_at, p.started_at, p.finished_at
FROM promotions p
JOIN models m ON m.id = p.model_id
JOIN model_versions v ON v.id = p.model_version_id
JOIN environments e ON e.id = p.target_environment_id;

-- Which model version wrote which predictions table version (batch scoring, and both models of a promotion's
-- shadow run: promotion_key names that promotion, NULL for batch scoring).
CREATE OR REPLACE VIEW prediction_producers AS
SELECT d.table_path AS predictions_table, d.delta_version, d.row_count, m.name AS model_name, v.version, d.created_at,
       (SELECT min(p.promotion_key) FROM lineage_edges pe JOIN promotions p ON p.id = pe.from_id
        WHERE pe.from_kind = 'promotion' AND pe.to_kind = 'dataset_version' AND pe.to_id = d.id
          AND pe.relation = 'shadow_run') AS promotion_key
FROM dataset_versions d
JOIN lineage_edges le ON le.to_kind = 'dataset_version' AND le.to_id = d.id
                     AND le.from_kind = 'model_version' AND le.relation = 'scored'
JOIN model_versions v ON v.id = le.from_id
JOIN models m ON m.id = v.model_id
WHERE d.kind = 'predictions';

-- Everything upstream of one model version, walking lineage_edges backwards (recursively, cycle-safe):
-- the training run, then every dataset version that fed it and whatever fed those.
CREATE OR REPLACE FUNCTION lineage_upstream_of(p_model TEXT, p_version INT)
    RETURNS TABLE (depth INT, relation TEXT, node_kind TEXT, node_id BIGINT, table_path TEXT, delta_version BIGINT,
                   row_count BIGINT, dataset_kind TEXT, run_key TEXT)
    LANGUAGE sql STABLE AS
$$
WITH RECURSIVE start AS (
    SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id WHERE m.name = p_model AND v.version = p_version
), up (depth, relation, node_kind, node_id, path) AS (
    SELECT 1, e.relation, e.from_kind, e.from_id, ARRAY[e.id]
    FROM lineage_edges e JOIN start s ON e.to_kind = 'model_version' AND e.to_id = s.id
    UNION ALL
    SELECT up.depth + 1, e.relation, e.from_kind, e.from_id, up.path || e.id
    FROM lineage_edges e JOIN up ON e.to_kind = up.node_kind AND e.to_id = up.node_id
    WHERE up.depth < 64 AND e.id <> ALL (up.path)
)
SELECT up.depth, up.relation, up.node_kind, up.node_id, d.table_path, d.delta_version, d.row_count, d.kind, r.run_key
FROM up
LEFT JOIN dataset_versions d ON up.node_kind = 'dataset_version' AND d.id = up.node_id
LEFT JOIN training_runs r ON up.node_kind = 'training_run' AND r.id = up.node_id
ORDER BY up.depth, up.node_kind, d.table_path, d.delta_version, up.node_id
$$;

-- Everything downstream of a dataset (all its recorded versions, or those up to p_up_to_version when not
-- NULL), walking lineage_edges forwards: training runs, model versions, predictions tables and onwards.
CREATE OR REPLACE FUNCTION lineage_downstream_of(p_table TEXT, p_up_to_version BIGINT)
    RETURNS TABLE (depth INT, relation TEXT, node_kind TEXT, node_id BIGINT, table_path TEXT, delta_version BIGINT,
                   run_key TEXT, run_status TEXT, model_name TEXT, version INT, version_status TEXT)
    LANGUAGE sql STABLE AS
$$
WITH RECURSIVE down (depth, relation, node_kind, node_id, path) AS (
    SELECT 0, 'self'::text, 'dataset_version'::text, d.id, ARRAY[]::bigint[]
    FROM dataset_versions d
    WHERE d.table_path = p_table AND (p_up_to_version IS NULL OR d.delta_version <= p_up_to_version)
    UNION ALL
    SELECT down.depth + 1, e.relation, e.to_kind, e.to_id, down.path || e.id
    FROM lineage_edges e JOIN down ON e.from_kind = down.node_kind AND e.from_id = down.node_id
    WHERE down.depth < 64 AND e.id <> ALL (down.path)
), nodes AS (
    SELECT min(depth) AS depth, min(relation) AS relation, node_kind, node_id FROM down GROUP BY node_kind, node_id
)
SELECT n.depth, n.relation, n.node_kind, n.node_id, d.table_path, d.delta_version, r.run_key, r.status,
       coalesce(mr.name, mv.name), coalesce(rv.version, v.version), coalesce(rv.status, v.status)
FROM nodes n
LEFT JOIN dataset_versions d ON n.node_kind = 'dataset_version' AND d.id = n.node_id
LEFT JOIN training_runs r ON n.node_kind = 'training_run' AND r.id = n.node_id
LEFT JOIN models mr ON mr.id = r.model_id
LEFT JOIN model_versions rv ON rv.training_run_id = r.id
LEFT JOIN model_versions v ON n.node_kind = 'model_version' AND v.id = n.node_id
LEFT JOIN models mv ON mv.id = v.model_id
ORDER BY n.depth, n.node_kind, n.node_id
$$;

-- The version live in each environment of a model at an instant (one row per environment that had one).
CREATE OR REPLACE FUNCTION live_at(p_model TEXT, p_at TIMESTAMPTZ)
    RETURNS TABLE (environment TEXT, environment_ordinal INT, version INT, valid_from TIMESTAMPTZ, valid_to TIMESTAMPTZ,
                   deployed_by TEXT, reason TEXT)
    LANGUAGE sql STABLE AS
$$
SELECT e.name, e.ordinal, v.version, d.valid_from, d.valid_to, d.deployed_by, d.reason
FROM models m
JOIN environments e ON e.model_id = m.id
JOIN deployments d ON d.environment_id = e.id AND d.role = 'live'
                  AND d.valid_from <= p_at AND (d.valid_to IS NULL OR d.valid_to > p_at)
JOIN model_versions v ON v.id = d.model_version_id
WHERE m.name = p_model
ORDER BY e.ordinal
$$;

-- The application role reads these; nobody writes through audit_trail (it is a simple, hence updatable, view).
DO
$$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trellis_app') THEN
        GRANT SELECT ON audit_trail, deployment_history, promotion_approvals, prediction_producers TO trellis_app;
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_trail FROM trellis_app;
    END IF;
END;
$$;
