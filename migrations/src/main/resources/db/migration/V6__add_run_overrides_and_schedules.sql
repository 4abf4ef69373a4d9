-- Issue 4: a retrain's overrides of its spec, and the embedded mode's schedule definitions.

-- What one run changed from its spec: {"from": ISO instant|null, "to": ISO instant|null, "hyperparameters": {...}}.
-- NULL for a run that trained exactly as its spec says. Reproduction applies the same overrides.
ALTER TABLE training_runs ADD COLUMN overrides JSONB;
ALTER TABLE training_runs ADD CONSTRAINT training_runs_overrides_is_object
    CHECK (overrides IS NULL OR jsonb_typeof(overrides) = 'object');
