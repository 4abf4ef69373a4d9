-- Lineage-aware retention (issue 9): legal holds on dataset versions, and purge marks. Retention never deletes
-- metadata: a model version whose artifact it deleted, or a dataset version whose Delta files it vacuumed, keeps its
-- row and gains a purge mark (when, why, by which retention run, how many bytes went).

-- A legal hold keeps a dataset version (and the model versions trained on it) readable until it is lifted. A lifted
-- hold keeps its row: who set it and why, who lifted it and why. At most one open hold per dataset version.
CREATE TABLE legal_holds (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dataset_version_id BIGINT      NOT NULL REFERENCES dataset_versions (id),
    reason             TEXT        NOT NULL,
    set_by             TEXT        NOT NULL,
    set_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    lifted_by          TEXT,
    lifted_at          TIMESTAMPTZ,
    lift_reason        TEXT,
    CONSTRAINT legal_holds_reason_not_blank CHECK (btrim(reason) <> ''),
    CONSTRAINT legal_holds_lift_complete CHECK ((lifted_at IS NULL) = (lifted_by IS NULL)),
    CONSTRAINT legal_holds_lift_after_set CHECK (lifted_at IS NULL OR lifted_at >= set_at)
);
CREATE UNIQUE INDEX legal_holds_one_open_idx ON legal_holds (dataset_version_id) WHERE lifted_at IS NULL;

-- One mark per purged subject: a model version's artifact, or a dataset version's files.
CREATE TABLE purge_marks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_kind  TEXT        NOT NULL,
    subject_id    BIGINT      NOT NULL,
    purged_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    reason        TEXT        NOT NULL,
    retention_run TEXT        NOT NULL,
    bytes         BIGINT      NOT NULL,
    CONSTRAINT purge_marks_subject_key UNIQUE (subject_kind, subject_id),
    CONSTRAINT purge_marks_subject_kind_check CHECK (subject_kind IN ('dataset_version', 'model_version')),
    CONSTRAINT purge_marks_bytes_non_negative CHECK (bytes >= 0)
);
