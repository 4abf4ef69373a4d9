-- Monitoring: the reference profile of each model version (bins and counts of its training snapshot), one row per
-- monitoring run with its decision, and the statistics of every run as a time series per model, feature and
-- statistic. Released migrations are never edited: add V5_1__..., V6__... instead.

CREATE TABLE reference_profiles (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_version_id BIGINT      NOT NULL REFERENCES model_versions (id),
    source_table     TEXT        NOT NULL,
    source_version   BIGINT      NOT NULL,
    profile          JSONB       NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reference_profiles_model_version_key UNIQUE (model_version_id),
    CONSTRAINT reference_profiles_source_version_non_negative CHECK (source_version >= 0)
);

-- One row per monitoring workflow run; run_key is the Temporal workflow id and run id.
CREATE TABLE monitoring_runs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_key         TEXT        NOT NULL,
    model_id        BIGINT      NOT NULL REFERENCES models (id),
    model_version   INT,
    environment     TEXT        NOT NULL,
    decision        TEXT        NOT NULL,
    reason          TEXT        NOT NULL,
    retrain_run_key TEXT,
    window_from     TEXT,
    window_to       TEXT,
    reference_rows  BIGINT,
    current_rows    BIGINT,
    report_uri      TEXT,
    findings        JSONB       NOT NULL DEFAULT '[]'::jsonb,
    requested_by    TEXT        NOT NULL,
    measured_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT monitoring_runs_run_key_key UNIQUE (run_key),
    CONSTRAINT monitoring_runs_decision_check CHECK (decision IN
        ('NO_DRIFT', 'RETRAIN_STARTED', 'RETRAIN_ALREADY_RUNNING', 'RETRAIN_COOLING_DOWN', 'NEEDS_ATTENTION')),
    CONSTRAINT monitoring_runs_retrain_iff_started CHECK ((decision = 'RETRAIN_STARTED') = (retrain_run_key IS NOT NULL))
);
CREATE INDEX monitoring_runs_model_idx ON monitoring_runs (model_id, measured_at);

-- feature: a feature column, or '__prediction__' (score distribution) / '__model__' (performance).
-- statistic: psi, ks, null_rate, auc, auc_drop.
CREATE TABLE monitoring_statistics (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    monitoring_run_id BIGINT           NOT NULL REFERENCES monitoring_runs (id),
    model_id          BIGINT           NOT NULL REFERENCES models (id),
    feature           TEXT             NOT NULL,
    statistic         TEXT             NOT NULL,
    value             DOUBLE PRECISION NOT NULL,
    severity          TEXT,
    measured_at       TIMESTAMPTZ      NOT NULL,
    CONSTRAINT monitoring_statistics_run_feature_statistic_key UNIQUE (monitoring_run_id, feature, statistic)
);
CREATE INDEX monitoring_statistics_series_idx ON monitoring_statistics (model_id, feature, statistic, measured_at);
