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

-- Prediction tables are append-only, so a VACUUM frees nothing there: retention deletes the old prediction rows of
-- model versions nothing pins (Delta DELETE) and marks that on the model version with this new subject kind. The model
-- version's own record and any mark of its artifact stay as they are.
ALTER TABLE purge_marks DROP CONSTRAINT purge_marks_subject_kind_check;
ALTER TABLE purge_marks ADD CONSTRAINT purge_marks_subject_kind_check
    CHECK (subject_kind IN ('dataset_version', 'model_version', 'model_predictions'));
