-- 0003_append_only: the write path follows DuckDB's fast path (appends and
-- set-based statements over whole tables; see warehouse/merge.go).
--
-- 1. The synced tables lose their PRIMARY KEY. DuckDB keeps a primary key as
--    an in-memory ART index that every insert maintains and that an upsert
--    turns into a delete plus an insert; at a million applications it was
--    most of the writer's memory. Keys stay unique: the warehouse merges
--    by key (delete the changed keys, insert their merged rows) in one
--    transaction. The columns and their order are unchanged.
-- 2. Schema "stackhouse_internal" holds the writer's own tables, which BI tools never
--    read and the published copy leaves out: landing tables the sync
--    engine appends to (one per synced table: the same columns, JSON as
--    VARCHAR, plus _seq, the order rows landed in), the serials a scan saw
--    unchanged (for its deletion check), and a version per table and
--    account, bumped by every merge that changes it (publishing rewrites
--    only what changed).

CREATE TABLE jobs_0003 AS SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_0003 RENAME TO jobs;

CREATE TABLE candidates_0003 AS SELECT * FROM candidates;
DROP TABLE candidates;
ALTER TABLE candidates_0003 RENAME TO candidates;

CREATE TABLE stage_events_0003 AS SELECT * FROM stage_events;
DROP TABLE stage_events;
ALTER TABLE stage_events_0003 RENAME TO stage_events;

CREATE TABLE attachments_0003 AS SELECT * FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_0003 RENAME TO attachments;

CREATE TABLE hires_0003 AS SELECT * FROM hires;
DROP TABLE hires;
ALTER TABLE hires_0003 RENAME TO hires;

ALTER TABLE jobs ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN job_id SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN candidate_id SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE stage_events ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE stage_events ALTER COLUMN candidate_id SET NOT NULL;
ALTER TABLE stage_events ALTER COLUMN stage SET NOT NULL;
ALTER TABLE stage_events ALTER COLUMN changed_at SET NOT NULL;
ALTER TABLE stage_events ALTER COLUMN origin SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN attachment_id SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN candidate_id SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE hires ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE hires ALTER COLUMN hire_id SET NOT NULL;
ALTER TABLE hires ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE hires ALTER COLUMN last_seen_at SET NOT NULL;

CREATE SCHEMA stackhouse_internal;

CREATE TABLE stackhouse_internal.land_jobs AS
    SELECT * REPLACE (remote_data::VARCHAR AS remote_data), 0::BIGINT AS _seq FROM jobs LIMIT 0;
CREATE TABLE stackhouse_internal.land_candidates AS
    SELECT * REPLACE (remote_data::VARCHAR AS remote_data), 0::BIGINT AS _seq FROM candidates LIMIT 0;
CREATE TABLE stackhouse_internal.land_attachments AS
    SELECT * REPLACE (remote_data::VARCHAR AS remote_data), 0::BIGINT AS _seq FROM attachments LIMIT 0;
CREATE TABLE stackhouse_internal.land_hires AS
    SELECT * REPLACE (remote_data::VARCHAR AS remote_data), 0::BIGINT AS _seq FROM hires LIMIT 0;
CREATE TABLE stackhouse_internal.land_stage_events AS
    SELECT *, 0::BIGINT AS _seq FROM stage_events LIMIT 0;

-- Serials seen unchanged through Write (Batch.Seen*): the merge moves their
-- last_seen_at and clears remote_deleted_at.
CREATE TABLE stackhouse_internal.land_seen (
    account_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    id         VARCHAR NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL,
    _seq       BIGINT NOT NULL
);

-- Serials a scan in progress saw unchanged (Batch.Scanned), kept with the
-- scan's checkpoint so that a resumed scan still knows them; read by
-- Vanished and cleared by EndScan.
CREATE TABLE stackhouse_internal.scan_seen (
    account_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    id         VARCHAR NOT NULL
);

CREATE TABLE stackhouse_internal.table_versions (
    account_id VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    version    BIGINT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, table_name)
);

-- What each publish target holds: per target (the Parquet root or the
-- read-only copy's path), account and table, the fingerprint of the data
-- it was written from. A publish rewrites only what changed since.
CREATE TABLE stackhouse_internal.published (
    target      VARCHAR NOT NULL,
    account_id  VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    fingerprint VARCHAR NOT NULL,
    PRIMARY KEY (target, account_id, table_name)
);
