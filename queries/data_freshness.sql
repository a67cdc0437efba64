-- name: data_freshness
-- title: Data freshness
-- params: account, as_of
--
-- Definition: per account, the last successful sync (finished_at of the
-- latest succeeded run), its lag in hours, the last successful complete
-- scan, the status, start and error of the latest run, and the rows per
-- table, all as of the end of as_of.
--
-- Standard: none; an operational check (what a BI user should look at
-- before trusting the other metrics).
--
-- Conventions: runs count when they started before the end of as_of, and a
-- success when it finished by then. The lag is measured from now (the
-- database clock) or, for a past as_of, from its end; an account that never
-- synced successfully has a NULL lag. Rows count when stackhouse had seen
-- them by then (first_seen_at) and they were not deleted by then; stage
-- events when they happened by then (stage history is never deleted).
-- Accounts are those configured (accounts) or with any job or sync run.
--
-- Time zone: instants are UTC; as_of ends at midnight in the account's
-- time zone (accounts.timezone).
--
-- Parameters: account (NULL = all accounts); as_of (default today in the
-- account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
runs AS (
    SELECT r.account_id,
           max(r.finished_at) FILTER (WHERE r.status = 'succeeded' AND r.finished_at < p.as_of_end) AS last_success_at,
           max(r.finished_at) FILTER (WHERE r.status = 'succeeded' AND r.complete_scan AND r.finished_at < p.as_of_end) AS last_complete_scan_at,
           arg_max(r.status, r.started_at) AS last_run_status,
           max(r.started_at) AS last_run_at,
           arg_max_null(r.error, r.started_at) AS last_error
    FROM sync_runs r JOIN params p ON p.account_id = r.account_id AND r.started_at < p.as_of_end
    GROUP BY r.account_id
),
counts AS (
    SELECT t.account_id, t.tbl, count(*) AS n
    FROM (SELECT account_id, 'jobs' AS tbl, first_seen_at AS seen, remote_deleted_at AS gone FROM jobs
          UNION ALL SELECT account_id, 'candidates', first_seen_at, remote_deleted_at FROM candidates
          UNION ALL SELECT account_id, 'stage_events', changed_at, NULL FROM stage_events
          UNION ALL SELECT account_id, 'attachments', first_seen_at, remote_deleted_at FROM attachments
          UNION ALL SELECT account_id, 'hires', first_seen_at, remote_deleted_at FROM hires) t
    JOIN params p ON p.account_id = t.account_id
    WHERE earlier(t.seen, p.as_of_end) AND live_at(t.gone, p.as_of_end)
    GROUP BY ALL
)
SELECT p.account_id, r.last_success_at,
       round((epoch_us(least(now(), p.as_of_end)) - epoch_us(r.last_success_at)) / 3600e6, 2) AS lag_hours,
       r.last_complete_scan_at, r.last_run_status, r.last_run_at, r.last_error,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'jobs'), 0) AS BIGINT) AS jobs,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'candidates'), 0) AS BIGINT) AS candidates,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'stage_events'), 0) AS BIGINT) AS stage_events,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'attachments'), 0) AS BIGINT) AS attachments,
       CAST(coalesce(sum(c.n) FILTER (WHERE c.tbl = 'hires'), 0) AS BIGINT) AS hires
FROM params p
LEFT JOIN runs r ON r.account_id = p.account_id
LEFT JOIN counts c ON c.account_id = p.account_id
WHERE r.account_id IS NOT NULL OR c.account_id IS NOT NULL OR p.account_id IN (SELECT account_id FROM accounts)
GROUP BY ALL
ORDER BY p.account_id;
