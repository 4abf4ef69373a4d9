-- OpenLineage run events (issue 6): every START / COMPLETE / FAIL / ABORT event of a Spark step Trellis runs,
-- kept as the exact JSON document that was (or would have been) sent, append-only, as MarquezProject keeps its
-- lineage_events. A few columns are copied out of the document for lookups; the document itself is the record.
CREATE TABLE openlineage_events (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The Trellis run the step belongs to, as the registry and audit trail key it: the workflow ID of retrains and
    -- promotions (retrain/churn/20261126-0123-ab12), <workflow ID>#<run ID> of scoring and monitoring runs.
    run_key        TEXT        NOT NULL,
    event_type     TEXT        NOT NULL,
    event_time     TIMESTAMPTZ NOT NULL,
    run_id         UUID        NOT NULL,
    job_namespace  TEXT        NOT NULL,
    job_name       TEXT        NOT NULL,
    parent_run_id  UUID,
    event          JSONB       NOT NULL,
    recorded_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT openlineage_events_type_check CHECK (event_type IN ('START', 'RUNNING', 'COMPLETE', 'FAIL', 'ABORT', 'OTHER')),
    -- One event of each type per OpenLineage run (one run per activity attempt): a repeat is a no-op.
    CONSTRAINT openlineage_events_run_type_key UNIQUE (run_id, event_type)
);
CREATE INDEX openlineage_events_run_key_idx ON openlineage_events (run_key, id);
CREATE INDEX openlineage_events_job_idx ON openlineage_events (job_namespace, job_name, event_time);

-- Each attempt to deliver an event to the configured HTTP endpoint (Marquez or any OpenLineage consumer),
-- also append-only: the latest row per event is its delivery status.
CREATE TABLE openlineage_deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     BIGINT      NOT NULL REFERENCES openlineage_events (id),
    endpoint     TEXT        NOT NULL,
    status       TEXT        NOT NULL,
    http_status  INT,
    error        TEXT,
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT openlineage_deliveries_status_check CHECK (status IN ('DELIVERED', 'FAILED'))
);
CREATE INDEX openlineage_deliveries_event_idx ON openlineage_deliveries (event_id, id);

CREATE FUNCTION openlineage_reject_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER openlineage_events_append_only BEFORE UPDATE OR DELETE ON openlineage_events
    FOR EACH ROW EXECUTE FUNCTION openlineage_reject_change();
CREATE TRIGGER openlineage_events_no_truncate BEFORE TRUNCATE ON openlineage_events
    FOR EACH STATEMENT EXECUTE FUNCTION openlineage_reject_change();
CREATE TRIGGER openlineage_deliveries_append_only BEFORE UPDATE OR DELETE ON openlineage_deliveries
    FOR EACH ROW EXECUTE FUNCTION openlineage_reject_change();
CREATE TRIGGER openlineage_deliveries_no_truncate BEFORE TRUNCATE ON openlineage_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION openlineage_reject_change();

-- Shadow runs (issue 6): a promotion is a lineage node, linked to the predictions version its shadow run wrote.
ALTER TABLE lineage_edges DROP CONSTRAINT lineage_edges_from_kind_check;
ALTER TABLE lineage_edges ADD CONSTRAINT lineage_edges_from_kind_check
    CHECK (from_kind IN ('dataset_version', 'training_run', 'model_version', 'promotion'));
ALTER TABLE lineage_edges DROP CONSTRAINT lineage_edges_to_kind_check;
ALTER TABLE lineage_edges ADD CONSTRAINT lineage_edges_to_kind_check
    CHECK (to_kind IN ('dataset_version', 'training_run', 'model_version', 'promotion'));

-- The application role may add events and delivery attempts and read them, never change them (V3's default
-- privileges would also grant UPDATE and DELETE).
DO
$$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trellis_app') THEN
        REVOKE ALL ON openlineage_events, openlineage_deliveries FROM trellis_app;
        GRANT SELECT, INSERT ON openlineage_events, openlineage_deliveries TO trellis_app;
    END IF;
END;
$$;
