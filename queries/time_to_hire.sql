-- name: time_to_hire
-- title: Time to hire
-- params: account, from, to
--
-- Definition: calendar days from an application's applied_at to its hire,
-- per hired application, summarised (hires, median, p75, mean) by job,
-- department, source and account.
--
-- Conventions: practitioners start the clock at application (used here) or
-- at first contact; the hired funnel stage marks offer acceptance. Days are
-- whole calendar days between UTC dates. The hire date is the first hired
-- stage event (else candidates.hired_at), so a candidate rejected and later
-- hired counts once, dated by that hire; a missing applied_at falls back to
-- first_seen_at. Empty department/source are NULL. Median and p75 are
-- continuous quantiles. Deleted applications are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates
-- on the hire date).
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
    SELECT c.account_id, c.job_id, nullif(trim(c.source), '') AS source,
           CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) AS applied_on,
           CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) AS hired_on
    FROM candidates c
    LEFT JOIN hire_events h USING (account_id, candidate_id), params p
    WHERE c.remote_deleted_at IS NULL
      AND (p.account IS NULL OR c.account_id = p.account)
      AND (h.hired_at IS NOT NULL OR c.hired_at IS NOT NULL)
),
in_range AS (
    SELECT h.account_id, h.job_id, j.name AS job_name, nullif(trim(j.department), '') AS department,
           h.source, date_diff('day', h.applied_on, h.hired_on) AS days
    FROM hires h
    LEFT JOIN jobs j ON j.account_id = h.account_id AND j.job_id = h.job_id, params p
    WHERE (p.from_date IS NULL OR h.hired_on >= p.from_date)
      AND (p.to_date IS NULL OR h.hired_on <= p.to_date)
)
SELECT CASE WHEN grouping(job_id) = 0 THEN 'job'
            WHEN grouping(department) = 0 THEN 'department'
            WHEN grouping(source) = 0 THEN 'source'
            ELSE 'account' END AS grain,
       account_id, job_id, job_name, department, source,
       count(days) AS hires,
       quantile_cont(days, 0.5) AS median_days,
       quantile_cont(days, 0.75) AS p75_days,
       avg(days) AS mean_days
FROM in_range
GROUP BY GROUPING SETS ((account_id), (account_id, department), (account_id, source),
                        (account_id, job_id, job_name, department))
ORDER BY account_id,
         CASE grain WHEN 'account' THEN 1 WHEN 'department' THEN 2 WHEN 'source' THEN 3 ELSE 4 END,
         department NULLS LAST, source NULLS LAST, job_id;
