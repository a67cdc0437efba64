-- name: time_to_hire
-- title: Time to hire
-- params: account, from, to, as_of
--
-- Definition: calendar days from an application to its hire, per hire
-- standing at as_of with its hire date in the period, summarised (hires,
-- median, p75, mean) by account, department, source and job.
--
-- Standard: the common definition (application or entering the pipeline ->
-- offer accepted); the move into a hired stage marks acceptance. Departs
-- only in that the clock starts at the application (applied_at, else
-- first_seen_at), not at first contact, which ApplicantStack does not
-- record.
--
-- Conventions: a hire is a standing hire at as_of (hired_applications):
-- dated by its first move into a hired stage, so a candidate rejected and
-- later hired counts once, dated by the hire; a hire moved to Do Not Pursue
-- or withdrawn by as_of is no hire. Departments come from the application's
-- job; empty departments and sources are NULL. Median and p75 are
-- continuous quantiles, the mean is the arithmetic mean.
--
-- Time zone: every date is a calendar date in the account's time zone
-- (accounts.timezone); days are differences of those dates.
--
-- Grains: account (default), department, source, job; each with hires,
-- median_days, p75_days, mean_days.
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the hire date); as_of (hires standing at the end of that day;
-- default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
hires AS (
    SELECT h.account_id, h.job_id, j.job_name, j.department, h.source,
           date_diff('day', h.applied_on, h.hired_on) AS days
    FROM hired_applications((SELECT account FROM args), (SELECT as_of FROM args)) h
    JOIN params p ON p.account_id = h.account_id
    LEFT JOIN job_openings j ON j.account_id = h.account_id AND j.job_id = h.job_id
    WHERE (p.from_date IS NULL OR h.hired_on >= p.from_date)
      AND (p.to_date IS NULL OR h.hired_on <= p.to_date)
),
summary AS (
    SELECT CASE WHEN grouping(job_id) = 0 THEN 'job'
                WHEN grouping(department) = 0 THEN 'department'
                WHEN grouping(source) = 0 THEN 'source'
                ELSE 'account' END AS grain,
           account_id, job_id, job_name, department, source,
           count(*) AS hires,
           quantile_cont(days, 0.5) AS median_days,
           quantile_cont(days, 0.75) AS p75_days,
           avg(days) AS mean_days
    FROM hires
    GROUP BY GROUPING SETS ((account_id), (account_id, department), (account_id, source),
                            (account_id, job_id, job_name, department))
)
-- grain: account
SELECT account_id, hires, median_days, p75_days, mean_days
FROM summary WHERE grain = 'account'
ORDER BY account_id;
-- grain: department
SELECT account_id, department, hires, median_days, p75_days, mean_days
FROM summary WHERE grain = 'department'
ORDER BY account_id, department NULLS LAST;
-- grain: source
SELECT account_id, source, hires, median_days, p75_days, mean_days
FROM summary WHERE grain = 'source'
ORDER BY account_id, source NULLS LAST;
-- grain: job
SELECT account_id, job_id, job_name, department, hires, median_days, p75_days, mean_days
FROM summary WHERE grain = 'job'
ORDER BY account_id, job_id;
