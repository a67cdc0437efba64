-- name: time_to_fill
-- title: Time to fill
-- params: account, from, to, as_of
--
-- Definition: calendar days from a job's opening (jobs.opened_at) to its
-- first hire, per job and rolled up by department, location and account
-- (median, p75 and count of filled jobs). Jobs still open at as_of are
-- listed with their age and never averaged in.
--
-- Conventions: SHRM's requisition opened -> offer accepted; the hired funnel
-- stage marks acceptance (practitioners split on opened -> start date; we
-- do not use start dates). Days are whole calendar days between UTC dates
-- (weekends and holidays included). A hire is an application that reached
-- the hired stage, dated by its first hired stage event (else
-- candidates.hired_at). The first hire on or after the opening date fills
-- the job; hires dated before opened_at belong to an earlier cycle of a
-- re-opened requisition and are ignored, so time to fill is never negative.
-- A job is open at as_of if it opened on or before as_of, was not filled by
-- as_of, and is open/on_hold (or has no status) now or was filled after
-- as_of; closed jobs with no hire (cancelled requisitions) are neither
-- filled nor open. Median and p75 are continuous quantiles. Deleted records
-- (remote_deleted_at) are excluded. Roll-ups are per account.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates
-- on the fill date, filled jobs only); as_of (the date open jobs are aged
-- at and fills are counted up to; default today, UTC).
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
hires AS (
    SELECT c.account_id, c.job_id,
           CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) AS hired_on
    FROM candidates c
    LEFT JOIN hire_events h USING (account_id, candidate_id), params p
    WHERE c.remote_deleted_at IS NULL
      AND (p.account IS NULL OR c.account_id = p.account)
      AND coalesce(h.hired_at, c.hired_at) IS NOT NULL
),
job_fill AS (
    SELECT j.account_id, j.job_id, j.name AS job_name,
           nullif(trim(j.department), '') AS department,
           nullif(trim(j.location), '') AS location,
           j.status,
           CAST(make_timestamp(epoch_us(coalesce(j.opened_at, j.remote_created_at))) AS DATE) AS opened_on,
           min(h.hired_on) AS first_hire_on
    FROM jobs j
    LEFT JOIN hires h
      ON h.account_id = j.account_id AND h.job_id = j.job_id
     AND h.hired_on >= CAST(make_timestamp(epoch_us(coalesce(j.opened_at, j.remote_created_at))) AS DATE),
    params p
    WHERE j.remote_deleted_at IS NULL AND (p.account IS NULL OR j.account_id = p.account)
    GROUP BY ALL
),
per_job AS (
    SELECT f.*,
           CASE WHEN f.first_hire_on <= p.as_of THEN f.first_hire_on END AS filled_on,
           CASE WHEN f.first_hire_on <= p.as_of
                 AND (p.from_date IS NULL OR f.first_hire_on >= p.from_date)
                 AND (p.to_date IS NULL OR f.first_hire_on <= p.to_date)
                THEN date_diff('day', f.opened_on, f.first_hire_on) END AS days_to_fill,
           CASE WHEN f.opened_on <= p.as_of
                 AND (f.first_hire_on IS NULL OR f.first_hire_on > p.as_of)
                 AND (coalesce(f.status, 'open') IN ('open', 'on_hold') OR f.first_hire_on > p.as_of)
                THEN date_diff('day', f.opened_on, p.as_of) END AS open_days
    FROM job_fill f, params p
    WHERE f.opened_on IS NOT NULL
),
listed AS (
    SELECT * FROM per_job WHERE days_to_fill IS NOT NULL OR open_days IS NOT NULL
),
rollup AS (
    SELECT CASE WHEN grouping(department) = 0 THEN 'department'
                WHEN grouping(location) = 0 THEN 'location'
                ELSE 'account' END AS grain,
           account_id, department, location,
           count(days_to_fill) AS filled_jobs,
           count(open_days) AS open_jobs,
           quantile_cont(days_to_fill, 0.5) AS median_days,
           quantile_cont(days_to_fill, 0.75) AS p75_days
    FROM listed
    GROUP BY GROUPING SETS ((account_id), (account_id, department), (account_id, location))
),
answer AS (
    SELECT grain, account_id, department, location,
           NULL::VARCHAR AS job_id, NULL::VARCHAR AS job_name, NULL::VARCHAR AS status,
           NULL::DATE AS opened_on, NULL::DATE AS filled_on,
           NULL::BIGINT AS days_to_fill, NULL::BIGINT AS open_days,
           filled_jobs, open_jobs, median_days, p75_days
    FROM rollup
    UNION ALL
    SELECT 'job', account_id, department, location, job_id, job_name, status,
           opened_on, filled_on, days_to_fill, open_days,
           NULL, NULL, NULL, NULL
    FROM listed
)
SELECT * FROM answer
ORDER BY account_id,
         CASE grain WHEN 'account' THEN 1 WHEN 'department' THEN 2 WHEN 'location' THEN 3 ELSE 4 END,
         department NULLS LAST, location NULLS LAST, opened_on, job_id;
