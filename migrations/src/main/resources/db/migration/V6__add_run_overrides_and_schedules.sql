-- Issue 4: a retrain's overrides of its spec, and the embedded mode's schedule definitions.

-- What one run changed from its spec: {"from": ISO instant|null, "to": ISO instant|null, "hyperparameters": {...}}.
-- NULL for a run that trained exactly as its spec says. Reproduction applies the same overrides.
ALTER TABLE training_runs ADD COLUMN overrides JSONB;
ALTER TABLE training_runs ADD CONSTRAINT training_runs_overrides_is_object
    CHECK (overrides IS NULL OR jsonb_typeof(overrides) = 'object');

-- The embedded mode's schedules (its Temporal test server keeps workflows in memory): the definition and pause state of
-- each live schedule, written through on every change, so `trellis api` re-creates them when it starts again. A
-- configured cluster keeps its Temporal Schedules itself and does not use this table.
CREATE TABLE embedded_schedules (
    schedule_id TEXT        PRIMARY KEY,
    kind        TEXT        NOT NULL,
    model_name  TEXT        NOT NULL,
    environment TEXT,
    cron        TEXT        NOT NULL,
    time_zone   TEXT        NOT NULL,
    overlap     TEXT        NOT NULL,
    paused      BOOLEAN     NOT NULL DEFAULT false,
    note        TEXT,
    updated_by  TEXT        NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT embedded_schedules_kind_check CHECK (kind IN ('RETRAIN', 'SCORE')),
    CONSTRAINT embedded_schedules_overlap_check CHECK (overlap IN ('SKIP', 'BUFFER_ONE')),
    CONSTRAINT embedded_schedules_environment_iff_score CHECK ((kind = 'SCORE') = (environment IS NOT NULL))
);
