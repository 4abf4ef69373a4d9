-- Idempotent audit rows of retention runs (issue 9). A retention attempt that Temporal retries recomputes its report
-- and would write its summary row (retention.planned / retention.completed) and its per-subject rows
-- (model.artifact_purged) again; the audit log is append-only, so a duplicate could never be taken back. Each such row
-- is written in the same transaction as its key here, and only when the key is new: at most one row per retention run
-- and subject.
CREATE TABLE retention_audit_keys (
    retention_run TEXT        NOT NULL,
    subject       TEXT        NOT NULL,
    action        TEXT        NOT NULL,
    recorded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT retention_audit_keys_pkey PRIMARY KEY (retention_run, subject),
    CONSTRAINT retention_audit_keys_run_not_blank CHECK (btrim(retention_run) <> ''),
    CONSTRAINT retention_audit_keys_subject_not_blank CHECK (btrim(subject) <> '')
);

