-- API access: bearer tokens (stored as SHA-256 only) that act as a principal, and idempotency keys of
-- API requests that start work (a retried POST returns what the first one started).

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Public handle shown in lists and audit rows ("tok_" + 12 hex); the secret itself is never stored.
    token_id     TEXT        NOT NULL,
    token_sha256 TEXT        NOT NULL,
    principal_id BIGINT      NOT NULL REFERENCES principals (id),
    description  TEXT,
    created_by   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    revoked_by   TEXT,
    last_used_at TIMESTAMPTZ,
    CONSTRAINT api_tokens_token_id_key UNIQUE (token_id),
    CONSTRAINT api_tokens_sha256_key UNIQUE (token_sha256),
    CONSTRAINT api_tokens_sha256_format CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT api_tokens_revoked_by_iff_revoked CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CONSTRAINT api_tokens_expiry_after_creation CHECK (expires_at IS NULL OR expires_at > created_at)
);

CREATE INDEX api_tokens_principal_idx ON api_tokens (principal_id);

CREATE TABLE idempotency_keys (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Keys are per identity: two callers cannot collide on (or probe) each other's keys.
    principal      TEXT        NOT NULL,
    idem_key       TEXT        NOT NULL,
    -- What the key was used for ("retrain:<model>") and a hash of the request, so reusing a key for a
    -- different request is refused instead of silently answered with the first request's result.
    scope          TEXT        NOT NULL,
    request_sha256 TEXT        NOT NULL,
    resource_key   TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL,
    CONSTRAINT idempotency_keys_principal_key UNIQUE (principal, idem_key),
    CONSTRAINT idempotency_keys_key_not_blank CHECK (btrim(idem_key) <> ''),
    CONSTRAINT idempotency_keys_expiry_after_creation CHECK (expires_at > created_at)
);

-- Run lists filter by model and status and page newest first by id (keyset).
CREATE INDEX training_runs_model_id_page_idx ON training_runs (model_id, id);
CREATE INDEX training_runs_status_page_idx ON training_runs (status, id);

-- Audit queries filter by model, actor or action and page by id (keyset).
CREATE INDEX audit_log_model_name_page_idx ON audit_log (model_name, id);
CREATE INDEX audit_log_actor_page_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_page_idx ON audit_log (action, id);

-- A version's lineage reads its audit history by model and version.
CREATE INDEX audit_log_model_version_page_idx ON audit_log (model_name, model_version, id);
