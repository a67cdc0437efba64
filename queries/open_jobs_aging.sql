-- name: open_jobs_aging
-- title: Open jobs aging
-- params: account, as_of
--
-- Definition: every job open at as_of, then every job on hold at as_of,
-- with its age in calendar days since opening, an age bucket (0-30, 31-60,
-- 61-90, 91-180, 181+), the applications it had received by as_of, the date
-- of the latest one, and its hires standing at as_of; oldest first.
--
-- Standard: requisition aging as ATS reports show it (days open since the
-- requisition opened). Departs in listing jobs on hold, marked as such,
-- since a requisition on hold is not open but is not gone either.
--
-- Conventions: open and on hold follow the job's status (job_state: open
-- from its opening, opened_at or else remote_created_at, until it went on
-- hold, was filled or closed, dated by its last modification), not its
-- hires: a requisition that hires many (CNA, PRN, per diem, evergreen)
-- stays open through them, and its hires are listed. Jobs deleted by as_of
-- are left out. Applications count when they exist at as_of (applied by
-- then, applied_at else first_seen_at, and not deleted by then). Hires are
-- standing hires at as_of on or after the opening (hired_applications).
--
-- Time zone: dates are calendar dates in the account's time zone
-- (accounts.timezone).
--
-- Parameters: account (NULL = all accounts); as_of (default today in the
-- account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
listed AS (
    SELECT j.account_id, j.job_id, j.job_name, j.department, j.location, j.opened_on, j.state AS status,
           date_diff('day', j.opened_on, j.as_of) AS age_days, j.timezone, j.as_of_end
    FROM jobs_at((SELECT account FROM args), (SELECT as_of FROM args)) j
    WHERE j.state IN ('open', 'on_hold')
),
apps AS (
    SELECT l.account_id, l.job_id, count(*) AS applications,
           max(coalesce(c.applied_at, c.first_seen_at)) AS last_applied_at
    FROM listed l
    JOIN candidates c ON c.account_id = l.account_id AND c.job_id = l.job_id
     AND live_at(c.remote_deleted_at, l.as_of_end)
     AND earlier(coalesce(c.applied_at, c.first_seen_at), l.as_of_end)
    GROUP BY l.account_id, l.job_id
),
hires AS (
    SELECT l.account_id, l.job_id, count(*) AS hires
    FROM hired_applications((SELECT account FROM args), (SELECT as_of FROM args)) h
    JOIN params p ON p.account_id = h.account_id
    JOIN listed l ON l.account_id = h.account_id AND l.job_id = h.job_id AND h.hired_on >= l.opened_on
    GROUP BY l.account_id, l.job_id
)
SELECT l.account_id, l.job_id, l.job_name, l.department, l.location, l.status, l.opened_on, l.age_days,
       CASE WHEN l.age_days <= 30 THEN '0-30' WHEN l.age_days <= 60 THEN '31-60'
            WHEN l.age_days <= 90 THEN '61-90' WHEN l.age_days <= 180 THEN '91-180'
            ELSE '181+' END AS age_bucket,
       coalesce(a.applications, 0) AS applications,
       local_date(a.last_applied_at, z) AS last_applied_on,
       coalesce(h.hires, 0) AS hires
FROM listed l
LEFT JOIN apps a ON a.account_id = l.account_id AND a.job_id = l.job_id
LEFT JOIN hires h ON h.account_id = l.account_id AND h.job_id = l.job_id
LEFT JOIN time_zone_days z ON z.timezone = l.timezone AND z.local_date = utc_date(a.last_applied_at)
ORDER BY l.status = 'on_hold', l.age_days DESC, l.account_id, l.job_id;
