-- Resource accounting: what the Spark jobs of every activity attempt used (one row per attempt, whatever its outcome:
-- a failed or cancelled attempt used resources too), and rollups per run, model, environment and day. Costs are
-- not stored: the price sheet lives in configuration and is applied when the usage is read.

CREATE TABLE resource_usage (
    id                          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id                 TEXT        NOT NULL,  -- the run key of a retrain
    run_id                      TEXT        NOT NULL,  -- the Temporal run id
    activity_id                 TEXT        NOT NULL,
    activity_type               TEXT        NOT NULL,
    attempt                     INT         NOT NULL,
    step                        TEXT        NOT NULL,
    model_name                  TEXT        NOT NULL,
    environment                 TEXT,                  -- null when the step serves no one environment (drift profiles)
    outcome                     TEXT        NOT NULL,
    spark_job_group             TEXT        NOT NULL,
    jobs                        BIGINT      NOT NULL,
    tasks                       BIGINT      NOT NULL,
    failed_tasks                BIGINT      NOT NULL,
    executor_run_ms             BIGINT      NOT NULL,
    executor_cpu_ns             BIGINT      NOT NULL,
    bytes_read                  BIGINT      NOT NULL,
    records_read                BIGINT      NOT NULL,
    bytes_written               BIGINT      NOT NULL,
    records_written             BIGINT      NOT NULL,
    shuffle_read_bytes          BIGINT      NOT NULL,
    shuffle_write_bytes         BIGINT      NOT NULL,
    peak_execution_memory_bytes BIGINT      NOT NULL,
    memory_byte_ms              NUMERIC     NOT NULL,  -- sum over tasks of peak execution memory x run time
    wall_ms                     BIGINT      NOT NULL,
    recorded_at                 TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT resource_usage_attempt_key UNIQUE (run_id, activity_id, attempt),
    CONSTRAINT resource_usage_attempt_non_negative CHECK (attempt >= 0),  -- 1, 2, ... (Temporal's activity test environment says 0)
    CONSTRAINT resource_usage_outcome_check CHECK (outcome IN ('SUCCEEDED', 'FAILED', 'CANCELLED', 'OVER_LIMIT')),
    CONSTRAINT resource_usage_non_negative CHECK (jobs >= 0 AND tasks >= 0 AND failed_tasks >= 0 AND executor_run_ms >= 0
        AND executor_cpu_ns >= 0 AND bytes_read >= 0 AND records_read >= 0 AND bytes_written >= 0 AND records_written >= 0
        AND shuffle_read_bytes >= 0 AND shuffle_write_bytes >= 0 AND peak_execution_memory_bytes >= 0 AND memory_byte_ms >= 0
        AND wall_ms >= 0)
);
CREATE INDEX resource_usage_workflow_idx ON resource_usage (workflow_id, recorded_at);
CREATE INDEX resource_usage_model_idx ON resource_usage (model_name, recorded_at);
CREATE INDEX resource_usage_environment_idx ON resource_usage (environment, recorded_at);
CREATE INDEX resource_usage_day_idx ON resource_usage (((recorded_at AT TIME ZONE 'UTC')::date), model_name);

-- The rollups share one set of sums; core and memory hours, GB read and written are what the price sheet prices.
CREATE VIEW resource_usage_by_run AS
SELECT workflow_id, model_name, count(*) AS attempts, count(*) FILTER (WHERE outcome <> 'SUCCEEDED') AS unsuccessful_attempts,
       sum(tasks) AS tasks, sum(executor_run_ms) AS executor_run_ms, sum(executor_cpu_ns) AS executor_cpu_ns,
       sum(bytes_read) AS bytes_read, sum(records_read) AS records_read, sum(bytes_written) AS bytes_written,
       sum(records_written) AS records_written, sum(shuffle_read_bytes) AS shuffle_read_bytes,
       sum(shuffle_write_bytes) AS shuffle_write_bytes, max(peak_execution_memory_bytes) AS peak_execution_memory_bytes,
       sum(memory_byte_ms) AS memory_byte_ms, sum(wall_ms) AS wall_ms,
       sum(executor_run_ms) / 3600000.0 AS core_hours, sum(memory_byte_ms) / 1073741824.0 / 3600000.0 AS memory_gb_hours,
       sum(bytes_read) / 1073741824.0 AS gb_read, sum(bytes_written) / 1073741824.0 AS gb_written,
       min(recorded_at) AS first_recorded_at, max(recorded_at) AS last_recorded_at
FROM resource_usage GROUP BY workflow_id, model_name;

CREATE VIEW resource_usage_by_model AS
SELECT model_name, count(DISTINCT workflow_id) AS runs, count(*) AS attempts,
       count(*) FILTER (WHERE outcome <> 'SUCCEEDED') AS unsuccessful_attempts, sum(tasks) AS tasks,
       sum(executor_run_ms) AS executor_run_ms, sum(bytes_read) AS bytes_read, sum(bytes_written) AS bytes_written,
       sum(shuffle_read_bytes) AS shuffle_read_bytes, sum(shuffle_write_bytes) AS shuffle_write_bytes,
       max(peak_execution_memory_bytes) AS peak_execution_memory_bytes, sum(wall_ms) AS wall_ms,
       sum(executor_run_ms) / 3600000.0 AS core_hours, sum(memory_byte_ms) / 1073741824.0 / 3600000.0 AS memory_gb_hours,
       sum(bytes_read) / 1073741824.0 AS gb_read, sum(bytes_written) / 1073741824.0 AS gb_written,
       min(recorded_at) AS first_recorded_at, max(recorded_at) AS last_recorded_at
FROM resource_usage GROUP BY model_name;

CREATE VIEW resource_usage_by_environment AS
SELECT coalesce(environment, '-') AS environment, model_name, count(DISTINCT workflow_id) AS runs, count(*) AS attempts,
       count(*) FILTER (WHERE outcome <> 'SUCCEEDED') AS unsuccessful_attempts, sum(tasks) AS tasks,
       sum(executor_run_ms) AS executor_run_ms, sum(bytes_read) AS bytes_read, sum(bytes_written) AS bytes_written,
       sum(shuffle_read_bytes) AS shuffle_read_bytes, sum(shuffle_write_bytes) AS shuffle_write_bytes,
       max(peak_execution_memory_bytes) AS peak_execution_memory_bytes, sum(wall_ms) AS wall_ms,
       sum(executor_run_ms) / 3600000.0 AS core_hours, sum(memory_byte_ms) / 1073741824.0 / 3600000.0 AS memory_gb_hours,
       sum(bytes_read) / 1073741824.0 AS gb_read, sum(bytes_written) / 1073741824.0 AS gb_written,
       min(recorded_at) AS first_recorded_at, max(recorded_at) AS last_recorded_at
FROM resource_usage GROUP BY coalesce(environment, '-'), model_name;

CREATE VIEW resource_usage_by_day AS
SELECT (recorded_at AT TIME ZONE 'UTC')::date AS day, model_name, count(DISTINCT workflow_id) AS runs, count(*) AS attempts,
       count(*) FILTER (WHERE outcome <> 'SUCCEEDED') AS unsuccessful_attempts, sum(tasks) AS tasks,
       sum(executor_run_ms) AS executor_run_ms, sum(bytes_read) AS bytes_read, sum(bytes_written) AS bytes_written,
       sum(shuffle_read_bytes) AS shuffle_read_bytes, sum(shuffle_write_bytes) AS shuffle_write_bytes,
       max(peak_execution_memory_bytes) AS peak_execution_memory_bytes, sum(wall_ms) AS wall_ms,
       sum(executor_run_ms) / 3600000.0 AS core_hours, sum(memory_byte_ms) / 1073741824.0 / 3600000.0 AS memory_gb_hours,
       sum(bytes_read) / 1073741824.0 AS gb_read, sum(bytes_written) / 1073741824.0 AS gb_written,
       min(recorded_at) AS first_recorded_at, max(recorded_at) AS last_recorded_at
FROM resource_usage GROUP BY (recorded_at AT TIME ZONE 'UTC')::date, model_name;
