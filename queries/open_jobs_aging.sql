-- name: open_jobs_aging
-- title: Open jobs aging
-- params: account, as_of
--
-- Definition: every job open at as_of with its age in calendar days since
-- opening, an age bucket (0-30, 31-60, 61-90, 91-180, 181+), the
-- applications it had received by as_of and the date of the latest one;
-- oldest first.
--
-- Conventions: the same notion of open as time_to_fill: opened on or before
-- as_of (opened_at, else remote_created_at, UTC date), no hire on or after
-- the opening date by as_of, and status open/on_hold (or none) now or
-- filled after as_of. Closed jobs with no hire (cancelled requisitions) are never open,
-- as their closing date is unknown. Deleted records are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); as_of (default today, UTC).
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
hire_events AS (
    SELECT e.account_id, e.candidate_id, min(e.changed_at) AS hired_at
    FROM stage_events e, params p
    WHERE e.funnel_stage = 'hired' AND (p.account IS NULL OR e.account_id = p.account)
    GROUP BY ALL
),
apps AS (
    SELECT c.account_id, c.job_id,
           CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) AS applied_on,
           CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) AS hired_on
    FROM candidates c
    LEFT JOIN hire_events h USING (account_id, candidate_id), params p
    WHERE c.remote_deleted_at IS NULL AND (p.account IS NULL OR c.account_id = p.account)
),
jobs_ AS (
    SELECT j.account_id, j.job_id, j.name AS job_name,
           nullif(trim(j.department), '') AS department, nullif(trim(j.location), '') AS location,
           j.status,
           CAST(make_timestamp(epoch_us(coalesce(j.opened_at, j.remote_created_at))) AS DATE) AS opened_on
    FROM jobs j, params p
    WHERE j.remote_deleted_at IS NULL AND (p.account IS NULL OR j.account_id = p.account)
),
per_job AS (
    SELECT j.account_id, j.job_id, j.job_name, j.department, j.location, j.status, j.opened_on, p.as_of,
           min(a.hired_on) FILTER (WHERE a.hired_on >= j.opened_on) AS first_hire_on,
           count(a.applied_on) FILTER (WHERE a.applied_on <= p.as_of) AS applications,
           max(a.applied_on) FILTER (WHERE a.applied_on <= p.as_of) AS last_applied_on
    FROM jobs_ j
    LEFT JOIN apps a ON a.account_id = j.account_id AND a.job_id = j.job_id, params p
    GROUP BY ALL
),
open_jobs AS (
    SELECT *, date_diff('day', opened_on, as_of) AS age_days
    FROM per_job
    WHERE opened_on <= as_of
      AND (first_hire_on IS NULL OR first_hire_on > as_of)
      AND (coalesce(status, 'open') IN ('open', 'on_hold') OR first_hire_on > as_of)
)
SELECT account_id, job_id, job_name, department, location, status, opened_on, age_days,
       CASE WHEN age_days <= 30 THEN '0-30' WHEN age_days <= 60 THEN '31-60'
            WHEN age_days <= 90 THEN '61-90' WHEN age_days <= 180 THEN '91-180'
            ELSE '181+' END AS age_bucket,
       applications, last_applied_on
FROM open_jobs
ORDER BY age_days DESC, account_id, job_id;
