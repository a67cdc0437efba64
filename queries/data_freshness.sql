-- name: data_freshness
-- title: Data freshness
-- params: account
--
-- Definition: per account, the last successful sync (sync_runs.finished_at
-- of the latest succeeded run), its lag from now in hours, the last
-- successful complete scan, the status, start and error of the latest run,
-- and the live rows per table (deleted records not counted).
--
-- Conventions: lag is measured from the database clock (now()), not from
-- as_of; an account that never synced successfully has a NULL lag. The
-- stage_events count is all rows (stage history is never deleted). Accounts
-- are those with any sync run or any job or candidate.
--
-- Parameters: account (NULL = all accounts).
WITH params AS (
    -- The only place parameters appear. as_of_end_us is the first instant
    -- after as_of (UTC): an event happened on or before as_of if it is earlier.
    SELECT account, from_date, to_date, as_of,
           epoch_us(CAST(as_of + 1 AS TIMESTAMP)) AS as_of_end_us
    FROM (SELECT CAST($account AS VARCHAR) AS account,
                 CAST($from AS DATE) AS from_date,
                 CAST($to AS DATE) AS to_date,
                 coalesce(CAST($as_of AS DATE), CAST(make_timestamp(epoch_us(now())) AS DATE)) AS as_of)
),
runs AS (
    SELECT account_id,
           max(finished_at) FILTER (WHERE status = 'succeeded') AS last_success_at,
           max(finished_at) FILTER (WHERE status = 'succeeded' AND complete_scan) AS last_complete_scan_at,
           arg_max(status, started_at) AS last_run_status,
           max(started_at) AS last_run_at,
           arg_max_null(error, started_at) AS last_error
    FROM sync_runs GROUP BY account_id
),
counts AS (
    SELECT account_id, 'jobs' AS tbl, count(*) AS n FROM jobs WHERE remote_deleted_at IS NULL GROUP BY ALL
    UNION ALL SELECT account_id, 'candidates', count(*) FROM candidates WHERE remote_deleted_at IS NULL GROUP BY ALL
    UNION ALL SELECT account_id, 'stage_events', count(*) FROM stage_events GROUP BY ALL
    UNION ALL SELECT account_id, 'attachments', count(*) FROM attachments WHERE remote_deleted_at IS NULL GROUP BY ALL
    UNION ALL SELECT account_id, 'hires', count(*) FROM hires WHERE remote_deleted_at IS NULL GROUP BY ALL
),
accounts AS (
    SELECT account_id FROM runs UNION SELECT account_id FROM counts
)
SELECT a.account_id, r.last_success_at,
       round((epoch_us(now()) - epoch_us(r.last_success_at)) / 3600e6, 2) AS lag_hours,
       r.last_complete_scan_at, r.last_run_status, r.last_run_at, r.last_error,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'jobs'), 0) AS BIGINT) AS jobs,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'candidates'), 0) AS BIGINT) AS candidates,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'stage_events'), 0) AS BIGINT) AS stage_events,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'attachments'), 0) AS BIGINT) AS attachments,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'hires'), 0) AS BIGINT) AS hires
FROM accounts a
LEFT JOIN runs r USING (account_id)
LEFT JOIN counts c USING (account_id), params p
WHERE p.account IS NULL OR a.account_id = p.account
GROUP BY ALL
ORDER BY a.account_id;
