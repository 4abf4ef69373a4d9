-- Tamper evidence for the append-only audit log, lineage indexes, and a restricted application role.
--
-- Hash chain: every audit row gets chain_seq (1, 2, 3... with no gaps), prev_hash (the row_hash of the row
-- before it in the chain; 64 zeros for the first) and row_hash = SHA-256 over prev_hash and the row's
-- canonical content (audit_log_canonical below). A BEFORE INSERT trigger fills them while holding the
-- single-row chain head FOR UPDATE, so concurrent writers are serialized on the head and the chain never
-- forks; the lock lasts until the writing transaction ends, so the order of the chain is the commit order
-- of the audit rows. `trellis audit verify` recomputes every hash independently of this SQL.
--
-- Canonical content, as UTF-8: the fields id, occurred_at (microseconds since the Unix epoch), actor,
-- action, outcome, model_name, model_version, run_key, message, details (jsonb's text form), each written
-- as <octet length>:<value>, or '-' when NULL, joined with '|'. The hashed text is prev_hash || '|' || that.

CREATE TABLE audit_chain_head (
    id        INT         PRIMARY KEY DEFAULT 1,
    last_seq  BIGINT      NOT NULL,
    last_hash TEXT        NOT NULL,
    CONSTRAINT audit_chain_head_single_row CHECK (id = 1)
);

ALTER TABLE audit_log ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN row_hash  TEXT;

CREATE FUNCTION audit_log_canonical(r audit_log) RETURNS TEXT
    LANGUAGE sql IMMUTABLE AS
$$
SELECT concat_ws('|',
    octet_length(r.id::text) || ':' || r.id::text,
    octet_length(((extract(epoch FROM r.occurred_at) * 1000000)::bigint)::text) || ':'
        || ((extract(epoch FROM r.occurred_at) * 1000000)::bigint)::text,
    coalesce(octet_length(r.actor) || ':' || r.actor, '-'),
    coalesce(octet_length(r.action) || ':' || r.action, '-'),
    coalesce(octet_length(r.outcome) || ':' || r.outcome, '-'),
    coalesce(octet_length(r.model_name) || ':' || r.model_name, '-'),
    coalesce(octet_length(r.model_version::text) || ':' || r.model_version::text, '-'),
    coalesce(octet_length(r.run_key) || ':' || r.run_key, '-'),
    coalesce(octet_length(r.message) || ':' || r.message, '-'),
    coalesce(octet_length(r.details::text) || ':' || r.details::text, '-'))
$$;

CREATE FUNCTION audit_log_row_hash(prev TEXT, r audit_log) RETURNS TEXT
    LANGUAGE sql IMMUTABLE AS
$$
SELECT encode(sha256(convert_to(prev || '|' || audit_log_canonical(r), 'UTF8')), 'hex')
$$;

-- SECURITY DEFINER: the application role may insert audit rows but has no rights on the chain head.
CREATE FUNCTION audit_log_chain() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS
$$
DECLARE
    head audit_chain_head%ROWTYPE;
BEGIN
    SELECT * INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.row_hash := audit_log_row_hash(head.last_hash, NEW);
    UPDATE audit_chain_head SET last_seq = NEW.chain_seq, last_hash = NEW.row_hash WHERE id = 1;
    RETURN NEW;
END;
$$;

-- Chain the rows written before this migration, in id order (the append-only trigger is lifted for the
-- backfill only; this runs as the schema owner inside the migration's transaction).
ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only;
DO
$$
DECLARE
    r    audit_log%ROWTYPE;
    seq  BIGINT := 0;
    prev TEXT := repeat('0', 64);
    h    TEXT;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        seq := seq + 1;
        h := audit_log_row_hash(prev, r);
        UPDATE audit_log SET chain_seq = seq, prev_hash = prev, row_hash = h WHERE id = r.id;
        prev := h;
    END LOOP;
    INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, seq, prev);
END;
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;

ALTER TABLE audit_log ALTER COLUMN chain_seq SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN prev_hash SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN row_hash SET NOT NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_chain_seq_key UNIQUE (chain_seq);

CREATE TRIGGER audit_log_chain
    BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- The chain head moves only through the trigger.
CREATE TRIGGER audit_chain_head_no_delete
    BEFORE DELETE OR TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_reject_change();

-- Lineage queries (recursive walks over lineage_edges, audit by model version, live-at-instant).
CREATE INDEX lineage_edges_from_idx ON lineage_edges (from_kind, from_id);
CREATE INDEX audit_log_model_version_idx ON audit_log (model_name, model_version, id);
CREATE INDEX deployments_environment_role_valid_idx ON deployments (environment_id, role, valid_from, valid_to);
CREATE INDEX dataset_versions_kind_idx ON dataset_versions (kind, table_path, delta_version);

-- The application's role: everything it needs on the registry, but only INSERT and SELECT on audit_log.
-- Deployments log in as a member of trellis_app (CREATE ROLE app LOGIN IN ROLE trellis_app) and run the
-- migrations as the schema owner. Roles are cluster-wide: created once, skipped where the migrating user
-- may not create roles (then an administrator creates it and applies the grants below).
DO
$$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trellis_app') THEN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
            BEGIN
                CREATE ROLE trellis_app NOLOGIN;
            EXCEPTION WHEN duplicate_object THEN
                NULL; -- created concurrently by a migration of another database on the same server
            END;
        ELSE
            RAISE NOTICE 'role trellis_app not created: % may not create roles', current_user;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'trellis_app') THEN
        BEGIN
            EXECUTE format('GRANT CONNECT ON DATABASE %I TO trellis_app', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'CONNECT on database % not granted to trellis_app: % does not own it', current_database(), current_user;
        END;
        GRANT USAGE ON SCHEMA public TO trellis_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO trellis_app;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO trellis_app;
        REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM trellis_app;
        REVOKE ALL ON audit_chain_head FROM trellis_app;
        GRANT SELECT ON audit_chain_head TO trellis_app;
        IF to_regclass('flyway_schema_history') IS NOT NULL THEN
            REVOKE ALL ON flyway_schema_history FROM trellis_app;
            GRANT SELECT ON flyway_schema_history TO trellis_app;
        END IF;
        -- Tables and sequences that later migrations create get the same rights (audit_log's stay as above).
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO trellis_app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO trellis_app;
    END IF;
END;
$$;
