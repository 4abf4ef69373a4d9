-- The Trellis registry: models and their specs, environments, dataset versions, training runs,
-- validation reports, model versions, lineage, deployment pointers and the append-only audit log.
-- Released migrations are never edited: add V2__..., V3__... instead.

CREATE TABLE models (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL,
    spec_yaml   TEXT,
    spec_sha256 TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT models_name_key UNIQUE (name),
    CONSTRAINT models_name_not_blank CHECK (btrim(name) <> '')
);

-- Every spec ever applied to a model, once per distinct content.
CREATE TABLE model_specs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id    BIGINT      NOT NULL REFERENCES models (id),
    spec_sha256 TEXT        NOT NULL,
    spec_yaml   TEXT        NOT NULL,
    applied_by  TEXT        NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT model_specs_model_sha_key UNIQUE (model_id, spec_sha256)
);

-- Ordered promotion path of a model (dev -> staging -> production by default); higher ordinal = closer to production.
CREATE TABLE environments (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id BIGINT NOT NULL REFERENCES models (id),
    name     TEXT   NOT NULL,
    ordinal  INT    NOT NULL,
    CONSTRAINT environments_model_name_key UNIQUE (model_id, name),
    CONSTRAINT environments_ordinal_non_negative CHECK (ordinal >= 0)
);

-- An immutable Delta table version that Trellis read or wrote.
CREATE TABLE dataset_versions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_path    TEXT        NOT NULL,
    delta_version BIGINT      NOT NULL,
    row_count     BIGINT      NOT NULL,
    kind          TEXT        NOT NULL,
    ingest_key    TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT dataset_versions_table_version_key UNIQUE (table_path, delta_version),
    CONSTRAINT dataset_versions_kind_check CHECK (kind IN ('raw', 'features', 'predictions')),
    CONSTRAINT dataset_versions_delta_version_non_negative CHECK (delta_version >= 0),
    CONSTRAINT dataset_versions_row_count_non_negative CHECK (row_count >= 0)
);
CREATE UNIQUE INDEX dataset_versions_ingest_key_idx ON dataset_versions (ingest_key) WHERE ingest_key IS NOT NULL;

-- One row per retraining workflow; run_key is the Temporal workflow id (e.g. retrain/churn/20261126-0123).
CREATE TABLE training_runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_key         TEXT        NOT NULL,
    model_id        BIGINT      NOT NULL REFERENCES models (id),
    workflow_run_id TEXT,
    status          TEXT        NOT NULL,
    current_step    TEXT,
    triggered_by    TEXT        NOT NULL,
    reason          TEXT,
    spec_sha256     TEXT,
    code_version    TEXT,
    failure_step    TEXT,
    failure_message TEXT,
    started_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at     TIMESTAMPTZ,
    CONSTRAINT training_runs_run_key_key UNIQUE (run_key),
    CONSTRAINT training_runs_status_check
        CHECK (status IN ('RUNNING', 'SUCCEEDED', 'VALIDATION_FAILED', 'GATE_FAILED', 'FAILED')),
    CONSTRAINT training_runs_finished_iff_done
        CHECK ((status = 'RUNNING') = (finished_at IS NULL))
);
CREATE INDEX training_runs_model_id_idx ON training_runs (model_id, started_at);
CREATE INDEX training_runs_status_idx ON training_runs (status);

CREATE TABLE validation_reports (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    training_run_id    BIGINT      NOT NULL REFERENCES training_runs (id),
    dataset_version_id BIGINT      NOT NULL REFERENCES dataset_versions (id),
    passed             BOOLEAN     NOT NULL,
    report             JSONB       NOT NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT validation_reports_training_run_key UNIQUE (training_run_id)
);
CREATE INDEX validation_reports_dataset_version_id_idx ON validation_reports (dataset_version_id);

-- Exactly one version per training run, numbered 1, 2, 3... per model. A REJECTED version failed its gates
-- and is kept for the record; it is never deployed.
CREATE TABLE model_versions (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id         BIGINT      NOT NULL REFERENCES models (id),
    version          INT         NOT NULL,
    training_run_id  BIGINT      NOT NULL REFERENCES training_runs (id),
    status           TEXT        NOT NULL,
    algorithm        TEXT        NOT NULL,
    artifact_uri     TEXT,
    artifact_sha256  TEXT,
    artifact_bytes   BIGINT,
    params           JSONB       NOT NULL,
    metrics          JSONB       NOT NULL,
    champion_version INT,
    champion_metrics JSONB,
    gate_results     JSONB       NOT NULL,
    code_version     TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT model_versions_model_version_key UNIQUE (model_id, version),
    CONSTRAINT model_versions_training_run_key UNIQUE (training_run_id),
    CONSTRAINT model_versions_status_check CHECK (status IN ('REGISTERED', 'REJECTED')),
    CONSTRAINT model_versions_version_positive CHECK (version > 0),
    CONSTRAINT model_versions_artifact_bytes_non_negative CHECK (artifact_bytes >= 0)
);

-- Generic provenance graph between dataset versions, training runs and model versions.
CREATE TABLE lineage_edges (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_kind  TEXT        NOT NULL,
    from_id    BIGINT      NOT NULL,
    to_kind    TEXT        NOT NULL,
    to_id      BIGINT      NOT NULL,
    relation   TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT lineage_edges_key UNIQUE (from_kind, from_id, to_kind, to_id, relation),
    CONSTRAINT lineage_edges_from_kind_check CHECK (from_kind IN ('dataset_version', 'training_run', 'model_version')),
    CONSTRAINT lineage_edges_to_kind_check CHECK (to_kind IN ('dataset_version', 'training_run', 'model_version')),
    CONSTRAINT lineage_edges_relation_not_blank CHECK (btrim(relation) <> '')
);
CREATE INDEX lineage_edges_to_idx ON lineage_edges (to_kind, to_id);

-- Time-versioned pointers: which model version is the candidate / live one in an environment.
-- A pointer is open while valid_to IS NULL; moving it closes the old row and opens a new one.
CREATE TABLE deployments (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id   BIGINT      NOT NULL REFERENCES environments (id),
    model_version_id BIGINT      NOT NULL REFERENCES model_versions (id),
    role             TEXT        NOT NULL,
    valid_from       TIMESTAMPTZ NOT NULL,
    valid_to         TIMESTAMPTZ,
    deployed_by      TEXT        NOT NULL,
    reason           TEXT,
    run_key          TEXT,
    CONSTRAINT deployments_role_check CHECK (role IN ('candidate', 'live')),
    CONSTRAINT deployments_valid_range CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
-- One open pointer per environment and role, enforced by the database.
CREATE UNIQUE INDEX deployments_one_open_pointer_idx ON deployments (environment_id, role) WHERE valid_to IS NULL;
CREATE INDEX deployments_environment_id_idx ON deployments (environment_id, valid_from);
CREATE INDEX deployments_model_version_id_idx ON deployments (model_version_id);

CREATE INDEX model_specs_model_id_idx ON model_specs (model_id);
CREATE INDEX environments_model_id_idx ON environments (model_id);

-- Who did what, when, with which outcome. Append-only: see the trigger below.
CREATE TABLE audit_log (
    id            BIGSERIAL PRIMARY KEY,
    occurred_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor         TEXT        NOT NULL,
    action        TEXT        NOT NULL,
    outcome       TEXT        NOT NULL,
    model_name    TEXT,
    model_version INT,
    run_key       TEXT,
    message       TEXT,
    details       JSONB,
    CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('SUCCESS', 'FAILURE', 'REJECTED'))
);
CREATE INDEX audit_log_model_name_occurred_at_idx ON audit_log (model_name, occurred_at);
CREATE INDEX audit_log_run_key_idx ON audit_log (run_key);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
CREATE INDEX audit_log_action_idx ON audit_log (action);

CREATE FUNCTION audit_log_reject_change() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        RAISE EXCEPTION 'audit_log is append-only: % of audit entry % is not allowed', TG_OP, OLD.id
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Record a correction as a new audit entry instead of changing or deleting an old one.';
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'restrict_violation',
              HINT = 'Record a correction as a new audit entry instead of changing or deleting an old one.';
END;
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_reject_change();

-- TRUNCATE bypasses row triggers; forbid it too.
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();
