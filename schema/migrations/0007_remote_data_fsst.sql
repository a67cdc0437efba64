-- 0007_remote_data_fsst: remote_data is stored with FSST compression only.
--
-- DuckDB picks a compression per column segment when it writes rows to the
-- file (a checkpoint, or a large insert written straight to the file). To
-- weigh dictionary compression it copies every distinct string of the row
-- group into memory that memory_limit does not count: for remote_data, a
-- row group of 122,880 JSON records of 1-2 KB, about 200 MB per row group
-- being written, so a 1M backfill peaked hundreds of MB above
-- memory_limit. remote_data is one JSON record per row, nearly all
-- distinct, and was stored with FSST anyway; declaring it
-- USING COMPRESSION fsst skips the dictionary's analysis. The other
-- columns keep DuckDB's choice: a low-cardinality column (stage, source)
-- stays dictionary-compressed, which the metrics scan faster.
--
-- DuckDB cannot change a column's compression in place, so each table with
-- remote_data (the synced ones and their landing tables) is rebuilt with
-- the same columns in the same order, its rows copied: remote_data and the
-- columns after it are added back to a copy made without them.

CREATE TABLE jobs_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at) FROM jobs LIMIT 0;
ALTER TABLE jobs_0007 ADD COLUMN remote_data JSON USING COMPRESSION fsst;
ALTER TABLE jobs_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE jobs_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE jobs_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
INSERT INTO jobs_0007 SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_0007 RENAME TO jobs;
ALTER TABLE jobs ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN job_id SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE jobs ALTER COLUMN last_seen_at SET NOT NULL;

CREATE TABLE candidates_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at) FROM candidates LIMIT 0;
ALTER TABLE candidates_0007 ADD COLUMN remote_data JSON USING COMPRESSION fsst;
ALTER TABLE candidates_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE candidates_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE candidates_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
INSERT INTO candidates_0007 SELECT * FROM candidates;
DROP TABLE candidates;
ALTER TABLE candidates_0007 RENAME TO candidates;
ALTER TABLE candidates ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN candidate_id SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE candidates ALTER COLUMN last_seen_at SET NOT NULL;

CREATE TABLE attachments_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at) FROM attachments LIMIT 0;
ALTER TABLE attachments_0007 ADD COLUMN remote_data JSON USING COMPRESSION fsst;
ALTER TABLE attachments_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE attachments_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE attachments_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
INSERT INTO attachments_0007 SELECT * FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_0007 RENAME TO attachments;
ALTER TABLE attachments ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN attachment_id SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN candidate_id SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE attachments ALTER COLUMN last_seen_at SET NOT NULL;

CREATE TABLE hires_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at) FROM hires LIMIT 0;
ALTER TABLE hires_0007 ADD COLUMN remote_data JSON USING COMPRESSION fsst;
ALTER TABLE hires_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE hires_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE hires_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
INSERT INTO hires_0007 SELECT * FROM hires;
DROP TABLE hires;
ALTER TABLE hires_0007 RENAME TO hires;
ALTER TABLE hires ALTER COLUMN account_id SET NOT NULL;
ALTER TABLE hires ALTER COLUMN hire_id SET NOT NULL;
ALTER TABLE hires ALTER COLUMN first_seen_at SET NOT NULL;
ALTER TABLE hires ALTER COLUMN last_seen_at SET NOT NULL;

CREATE TABLE stackhouse_internal.land_jobs_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at, _seq) FROM stackhouse_internal.land_jobs LIMIT 0;
ALTER TABLE stackhouse_internal.land_jobs_0007 ADD COLUMN remote_data VARCHAR USING COMPRESSION fsst;
ALTER TABLE stackhouse_internal.land_jobs_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_jobs_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_jobs_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_jobs_0007 ADD COLUMN _seq BIGINT;
INSERT INTO stackhouse_internal.land_jobs_0007 SELECT * FROM stackhouse_internal.land_jobs;
DROP TABLE stackhouse_internal.land_jobs;
ALTER TABLE stackhouse_internal.land_jobs_0007 RENAME TO land_jobs;

CREATE TABLE stackhouse_internal.land_candidates_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at, _seq) FROM stackhouse_internal.land_candidates LIMIT 0;
ALTER TABLE stackhouse_internal.land_candidates_0007 ADD COLUMN remote_data VARCHAR USING COMPRESSION fsst;
ALTER TABLE stackhouse_internal.land_candidates_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_candidates_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_candidates_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_candidates_0007 ADD COLUMN _seq BIGINT;
INSERT INTO stackhouse_internal.land_candidates_0007 SELECT * FROM stackhouse_internal.land_candidates;
DROP TABLE stackhouse_internal.land_candidates;
ALTER TABLE stackhouse_internal.land_candidates_0007 RENAME TO land_candidates;

CREATE TABLE stackhouse_internal.land_attachments_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at, _seq) FROM stackhouse_internal.land_attachments LIMIT 0;
ALTER TABLE stackhouse_internal.land_attachments_0007 ADD COLUMN remote_data VARCHAR USING COMPRESSION fsst;
ALTER TABLE stackhouse_internal.land_attachments_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_attachments_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_attachments_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_attachments_0007 ADD COLUMN _seq BIGINT;
INSERT INTO stackhouse_internal.land_attachments_0007 SELECT * FROM stackhouse_internal.land_attachments;
DROP TABLE stackhouse_internal.land_attachments;
ALTER TABLE stackhouse_internal.land_attachments_0007 RENAME TO land_attachments;

CREATE TABLE stackhouse_internal.land_hires_0007 AS SELECT * EXCLUDE (remote_data, first_seen_at, last_seen_at, remote_deleted_at, _seq) FROM stackhouse_internal.land_hires LIMIT 0;
ALTER TABLE stackhouse_internal.land_hires_0007 ADD COLUMN remote_data VARCHAR USING COMPRESSION fsst;
ALTER TABLE stackhouse_internal.land_hires_0007 ADD COLUMN first_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_hires_0007 ADD COLUMN last_seen_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_hires_0007 ADD COLUMN remote_deleted_at TIMESTAMPTZ;
ALTER TABLE stackhouse_internal.land_hires_0007 ADD COLUMN _seq BIGINT;
INSERT INTO stackhouse_internal.land_hires_0007 SELECT * FROM stackhouse_internal.land_hires;
DROP TABLE stackhouse_internal.land_hires;
ALTER TABLE stackhouse_internal.land_hires_0007 RENAME TO land_hires;
