-- 0005_run_files_pending: a run records the attachments it left to fetch
-- (the file host failed, a blob was missing or damaged: the next run
-- fetches them) and a warning an operator should see even when the run
-- succeeded (deletions held back, downloads stopped). Both columns go at
-- the end of sync_runs; its rows and key are kept.
ALTER TABLE sync_runs ADD COLUMN files_pending BIGINT DEFAULT 0;   -- attachments left for the next run
ALTER TABLE sync_runs ADD COLUMN warning VARCHAR;                  -- deletions held back, downloads stopped
