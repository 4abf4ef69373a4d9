-- Staged promotion (dev -> staging -> production): who may approve, the promotions themselves, and the
-- database-enforced rule that a version reaches an environment only after the one below it.

-- Identities and their roles. Roles are lowercase names; an empty array is a known principal with no rights.
CREATE TABLE principals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT        NOT NULL,
    roles      TEXT[]      NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT principals_name_key UNIQUE (name),
    CONSTRAINT principals_name_not_blank CHECK (btrim(name) <> ''),
    CONSTRAINT principals_roles_check
        CHECK (roles <@ ARRAY['viewer', 'ml-engineer', 'approver', 'auditor', 'admin']::TEXT[]
               AND array_position(roles, NULL) IS NULL)
);

-- One row per promotion workflow; promotion_key is the Temporal workflow id (e.g. promote/customer-churn/v3/production).
-- stages holds one JSON object per environment passed so far (gate results, shadow comparison), in order.
CREATE TABLE promotions (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    promotion_key         TEXT        NOT NULL,
    model_id              BIGINT      NOT NULL REFERENCES models (id),
    model_version_id      BIGINT      NOT NULL REFERENCES model_versions (id),
    target_environment_id BIGINT      NOT NULL REFERENCES environments (id),
    status                TEXT        NOT NULL,
    requested_by          TEXT        NOT NULL,
    reason                TEXT,
    stages                JSONB       NOT NULL DEFAULT '[]',
    decided_by            TEXT,
    decision              TEXT,
    decision_reason       TEXT,
    decided_at            TIMESTAMPTZ,
    message               TEXT,
    started_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at           TIMESTAMPTZ,
    CONSTRAINT promotions_promotion_key_key UNIQUE (promotion_key),
    CONSTRAINT promotions_status_check
        CHECK (status IN ('RUNNING', 'AWAITING_APPROVAL', 'DEPLOYED', 'GATE_FAILED', 'REJECTED', 'EXPIRED', 'FAILED')),
    CONSTRAINT promotions_decision_check CHECK (decision IN ('APPROVED', 'REJECTED')),
    CONSTRAINT promotions_decision_complete
        CHECK ((decision IS NULL) = (decided_by IS NULL) AND (decision IS NULL) = (decided_at IS NULL)),
    CONSTRAINT promotions_finished_iff_done
        CHECK ((status IN ('RUNNING', 'AWAITING_APPROVAL')) = (finished_at IS NULL)),
    CONSTRAINT promotions_stages_is_array CHECK (jsonb_typeof(stages) = 'array')
);
-- Two racing promotions of one model to one environment cannot both be active: the loser's insert fails here.
CREATE UNIQUE INDEX promotions_one_active_idx ON promotions (model_id, target_environment_id)
    WHERE status IN ('RUNNING', 'AWAITING_APPROVAL');
CREATE INDEX promotions_model_id_idx ON promotions (model_id, started_at);
CREATE INDEX promotions_model_version_id_idx ON promotions (model_version_id);
CREATE INDEX promotions_target_environment_id_idx ON promotions (target_environment_id);

-- A version goes live in an environment of ordinal n >= 2 (production) only if it has been live in the
-- environment just below (staging), or was live in this same environment before (a rollback).
-- Ordinal 0 and 1 (dev, staging) are not restricted here; the registry checks them.
CREATE FUNCTION deployments_require_previous_environment() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    target      environments%ROWTYPE;
    below       environments%ROWTYPE;
    model_name  TEXT;
    version_no  INT;
BEGIN
    IF NEW.role <> 'live' OR NEW.valid_to IS NOT NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.role = NEW.role AND OLD.valid_to IS NULL
            AND OLD.environment_id = NEW.environment_id AND OLD.model_version_id = NEW.model_version_id THEN
        RETURN NEW;
    END IF;
    SELECT * INTO target FROM environments WHERE id = NEW.environment_id;
    IF target.ordinal < 2 THEN
        RETURN NEW;
    END IF;
    SELECT * INTO below FROM environments
        WHERE model_id = target.model_id AND ordinal < target.ordinal
        ORDER BY ordinal DESC LIMIT 1;
    IF EXISTS (SELECT 1 FROM deployments d
               WHERE d.model_version_id = NEW.model_version_id AND d.role = 'live'
                 AND d.id IS DISTINCT FROM NEW.id
                 AND (d.environment_id = below.id OR d.environment_id = NEW.environment_id)) THEN
        RETURN NEW;
    END IF;
    SELECT m.name, v.version INTO model_name, version_no
        FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = NEW.model_version_id;
    RAISE EXCEPTION '% v% cannot go live in % before it has been live in %', model_name, version_no, target.name, below.name
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'deployments_live_requires_previous_environment',
              HINT = 'Promote the version through ' || below.name || ' first (trellis promote), then to ' || target.name || '.';
END;
$$;

CREATE TRIGGER deployments_require_previous_environment
    BEFORE INSERT OR UPDATE ON deployments
    FOR EACH ROW EXECUTE FUNCTION deployments_require_previous_environment();
