-- name: time_to_fill
-- title: Time to fill
-- params: account, from, to, as_of
--
-- Definition: calendar days from a job's opening to its hires: to its first
-- hire (time to first hire, one number per job) and to each of its hires
-- (days per hire), with the jobs still open or on hold at as_of and their
-- age; per job and rolled up by department, location and account (median,
-- p75, counts).
--
-- Standard: SHRM's time to fill, requisition opened -> offer accepted, in
-- calendar days (weekends and holidays included); the move into a hired
-- stage marks acceptance (practitioners split on opened -> start date; start
-- dates are not used). Departs from it where ApplicantStack forces: a job is
-- one requisition with no headcount, so a requisition that hires several
-- people (CNA, PRN, per diem, evergreen) gets both time to first hire (the
-- SHRM number for a single-seat requisition) and days per hire (opening ->
-- each hire; for an evergreen job these grow with its age).
--
-- Conventions: the opening is job_openings.opened_on (opened_at, i.e. the
-- Campaign Start Date, else remote_created_at). A hire is a standing hire at
-- as_of (hired_applications: first move into a hired stage; a hire moved to
-- Do Not Pursue or withdrawn by as_of is no hire and fills nothing). Hires
-- dated before the opening belong to an earlier cycle of a re-opened
-- requisition and are ignored, so days are never negative. Hires do not
-- close a job: its status does (job_state), so a job is "open" or "on_hold"
-- at as_of by its status, whatever its hires. Jobs listed: every job opened
-- by as_of with a hire in the period, or open or on hold at as_of; jobs not
-- yet opened, deleted by as_of, or closed or filled with no hire in the
-- period are not listed. Median and p75 are continuous quantiles
-- (quantile_cont). Roll-ups are per account; an empty department or
-- location is NULL.
--
-- Time zone: every date is a calendar date in the account's time zone
-- (accounts.timezone); days are differences of those dates.
--
-- Grains: account (default), department, location, job.
--   account, department, location: first_hires (jobs whose first hire is in
--     the period), median_days_to_first_hire, p75_days_to_first_hire, hires
--     (hires in the period), median_days_per_hire, p75_days_per_hire,
--     open_jobs and on_hold_jobs (status at as_of)
--   job: status at as_of, opened_on, first_hire_on, days_to_first_hire (when
--     the first hire is in the period), hires and median_days_per_hire (in
--     the period), open_days (age at as_of of an open or on-hold job)
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the hire date); as_of (hires, statuses and ages as of the end of
-- that day; default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
jobs_ AS (
    SELECT j.account_id, j.job_id, j.job_name, j.department, j.location, j.opened_on, j.state AS status,
           p.as_of, p.from_date, p.to_date
    FROM jobs_at((SELECT account FROM args), (SELECT as_of FROM args)) j
    JOIN params p ON p.account_id = j.account_id
    WHERE j.opened_on <= p.as_of
),
hires AS (
    SELECT h.account_id, h.job_id, h.hired_on
    FROM hired_applications((SELECT account FROM args), (SELECT as_of FROM args)) h
    JOIN params p ON p.account_id = h.account_id
),
per_hire AS (
    SELECT j.account_id, j.job_id, h.hired_on, date_diff('day', j.opened_on, h.hired_on) AS days,
           (j.from_date IS NULL OR h.hired_on >= j.from_date) AND (j.to_date IS NULL OR h.hired_on <= j.to_date) AS in_period
    FROM jobs_ j
    JOIN hires h ON h.account_id = j.account_id AND h.job_id = j.job_id AND h.hired_on >= j.opened_on
),
per_job AS (
    SELECT j.account_id, j.job_id,
           min(h.hired_on) AS first_hire_on,
           arg_min(h.in_period, h.hired_on) AS first_in_period,
           count(*) FILTER (WHERE h.in_period) AS hires,
           quantile_cont(h.days, 0.5) FILTER (WHERE h.in_period) AS median_days_per_hire
    FROM jobs_ j
    JOIN per_hire h ON h.account_id = j.account_id AND h.job_id = j.job_id
    GROUP BY j.account_id, j.job_id
),
listed AS (
    SELECT j.account_id, j.job_id, j.job_name, j.department, j.location, j.status, j.opened_on,
           f.first_hire_on,
           CASE WHEN f.first_in_period THEN date_diff('day', j.opened_on, f.first_hire_on) END AS days_to_first_hire,
           coalesce(f.hires, 0) AS hires, f.median_days_per_hire,
           CASE WHEN j.status IN ('open', 'on_hold') THEN date_diff('day', j.opened_on, j.as_of) END AS open_days
    FROM jobs_ j
    LEFT JOIN per_job f ON f.account_id = j.account_id AND f.job_id = j.job_id
    WHERE f.hires > 0 OR j.status IN ('open', 'on_hold')
),
hires_listed AS (
    -- Per-hire days of the listed jobs, for the roll-ups.
    SELECT l.account_id, l.department, l.location, h.days
    FROM listed l
    JOIN per_hire h ON h.account_id = l.account_id AND h.job_id = l.job_id
    WHERE h.in_period
),
rollup_jobs AS (
    SELECT account_id,
           CASE WHEN grouping(department) = 0 THEN 'department'
                WHEN grouping(location) = 0 THEN 'location' ELSE 'account' END AS grain,
           department, location,
           count(days_to_first_hire) AS first_hires,
           quantile_cont(days_to_first_hire, 0.5) AS median_days_to_first_hire,
           quantile_cont(days_to_first_hire, 0.75) AS p75_days_to_first_hire,
           count(*) FILTER (WHERE status = 'open') AS open_jobs,
           count(*) FILTER (WHERE status = 'on_hold') AS on_hold_jobs
    FROM listed
    GROUP BY GROUPING SETS ((account_id), (account_id, department), (account_id, location))
),
rollup_hires AS (
    SELECT account_id,
           CASE WHEN grouping(department) = 0 THEN 'department'
                WHEN grouping(location) = 0 THEN 'location' ELSE 'account' END AS grain,
           department, location,
           count(*) AS hires,
           quantile_cont(days, 0.5) AS median_days_per_hire,
           quantile_cont(days, 0.75) AS p75_days_per_hire
    FROM hires_listed
    GROUP BY GROUPING SETS ((account_id), (account_id, department), (account_id, location))
),
rollup AS (
    SELECT j.account_id, j.grain, j.department, j.location,
           j.first_hires, j.median_days_to_first_hire, j.p75_days_to_first_hire,
           coalesce(h.hires, 0) AS hires, h.median_days_per_hire, h.p75_days_per_hire,
           j.open_jobs, j.on_hold_jobs
    FROM rollup_jobs j
    LEFT JOIN rollup_hires h ON h.account_id = j.account_id AND h.grain = j.grain
     AND h.department IS NOT DISTINCT FROM j.department AND h.location IS NOT DISTINCT FROM j.location
)
-- grain: account
SELECT account_id, first_hires, median_days_to_first_hire, p75_days_to_first_hire,
       hires, median_days_per_hire, p75_days_per_hire, open_jobs, on_hold_jobs
FROM rollup WHERE grain = 'account'
ORDER BY account_id;
-- grain: department
SELECT account_id, department, first_hires, median_days_to_first_hire, p75_days_to_first_hire,
       hires, median_days_per_hire, p75_days_per_hire, open_jobs, on_hold_jobs
FROM rollup WHERE grain = 'department'
ORDER BY account_id, department NULLS LAST;
-- grain: location
SELECT account_id, location, first_hires, median_days_to_first_hire, p75_days_to_first_hire,
       hires, median_days_per_hire, p75_days_per_hire, open_jobs, on_hold_jobs
FROM rollup WHERE grain = 'location'
ORDER BY account_id, location NULLS LAST;
-- grain: job
SELECT account_id, job_id, job_name, department, location, status, opened_on, first_hire_on,
       days_to_first_hire, hires, median_days_per_hire, open_days
FROM listed
ORDER BY account_id, opened_on, job_id;
