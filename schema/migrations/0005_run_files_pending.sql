-- 0005_run_files_pending: a run records the attachments it left to fetch
-- (the file host failed, a blob was missing or damaged: the next run
-- fetches them) and a warning an operator should see even when the run
-- succeeded (deletions held back, downloads stopped). The table is rebuilt
-- with the two columns at its end, its key unchanged.
CREATE TABLE sync_runs_0005 (
    run_id            VARCHAR NOT NULL,
    account_id        VARCHAR NOT NULL,
    mode              VARCHAR NOT NULL,   -- backfill, sync, full, tail, webhook
    status            VARCHAR NOT NULL,   -- running, succeeded, failed, interrupted
    started_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ,
    requests          BIGINT DEFAULT 0,
    retries           BIGINT DEFAULT 0,
    throttled         BIGINT DEFAULT 0,   -- 429 answers waited out
    pages             BIGINT DEFAULT 0,
    rows_new          BIGINT DEFAULT 0,
    rows_changed      BIGINT DEFAULT 0,
    rows_unchanged    BIGINT DEFAULT 0,
    rows_deleted      BIGINT DEFAULT 0,
    details_fetched   BIGINT DEFAULT 0,
    files_downloaded  BIGINT DEFAULT 0,
    rejected          BIGINT DEFAULT 0,
    complete_scan     BOOLEAN DEFAULT false,
    error             VARCHAR,
    files_pending     BIGINT DEFAULT 0,   -- attachments left for the next run
    warning           VARCHAR,            -- deletions held back, downloads stopped
    PRIMARY KEY (run_id, account_id)
);
INSERT INTO sync_runs_0005 SELECT *, 0, NULL FROM sync_runs;
DROP TABLE sync_runs;
ALTER TABLE sync_runs_0005 RENAME TO sync_runs;
