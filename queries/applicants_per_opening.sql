-- name: applicants_per_opening
-- title: Applicants per opening
-- params: account, from, to, as_of
--
-- Definition: for the jobs open at some time in the period (the openings),
-- the applications they received in the period divided by the number of
-- openings, per job and rolled up by department and account; also the
-- applications left when each person is counted once per job
-- (deduplicated_applications), and, in roll-ups, the applications of the
-- period that went to jobs not open in it (unmatched_applications), so
-- numerator and denominator always cover the same jobs.
--
-- Standard: applicants per opening as practitioners define it
-- (applications in the period / open positions in the period), with the
-- duplicate-merging caveat handled by the deduplicated count. Departs where
-- ApplicantStack forces: it has no headcount per requisition, so each job
-- is one opening.
--
-- Conventions: a job is open on a day by its status (job_state: from its
-- opening until it went on hold, was filled or closed; hires do not close
-- it), so it is an opening when it was open on any day from from to the
-- earlier of to and as_of; jobs deleted by as_of are left out. An
-- application counts when its application date (applied_at, else
-- first_seen_at) falls in that period and it exists at as_of (not deleted by
-- then); applications to a job after it closed count with that job when it
-- was an opening in the period. Deduplicated: applications from the same
-- person_key (normalized e-mail; none = a distinct person) to one job count
-- once; roll-ups sum the jobs, so a person who applied to two jobs counts
-- twice there. The ratio is NULL with no openings. Empty departments are
-- NULL.
--
-- Time zone: application and opening dates are calendar dates in the
-- account's time zone (accounts.timezone).
--
-- Grains: account (default), department, job. Account and department:
-- openings, applications, deduplicated_applications, applicants_per_opening,
-- unmatched_applications; job: the openings only, with job_name and
-- department.
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates; NULL = unbounded); as_of (the period ends at as_of at the latest;
-- default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
jobs_ AS (
    SELECT o.account_id, o.job_id, o.job_name, o.department,
           job_open_between(o.opened_on, o.open_until, p.from_date, least(p.to_date, p.as_of)) AS opening
    FROM job_openings o JOIN params p ON p.account_id = o.account_id
    WHERE live_at(o.remote_deleted_at, p.as_of_end)
),
apps AS (
    -- Per job: applications of the period, and people counted once per job.
    SELECT c.account_id, c.job_id, count(*) AS applications,
           count(DISTINCT coalesce(c.person_key, '#' || c.candidate_id)) AS deduplicated
    FROM params p
    JOIN candidates c ON c.account_id = p.account_id
     AND live_at(c.remote_deleted_at, p.as_of_end)
     AND earlier(coalesce(c.applied_at, c.first_seen_at), p.period_end)
     AND (p.from_start IS NULL OR NOT earlier(coalesce(c.applied_at, c.first_seen_at), p.from_start))
    GROUP BY c.account_id, c.job_id
),
by_job AS (
    SELECT coalesce(j.account_id, a.account_id) AS account_id, coalesce(j.job_id, a.job_id) AS job_id,
           j.job_name, j.department, coalesce(j.opening, false) AS opening,
           coalesce(a.applications, 0) AS applications, coalesce(a.deduplicated, 0) AS deduplicated
    FROM jobs_ j
    FULL JOIN apps a ON a.account_id = j.account_id AND a.job_id = j.job_id
),
rollup AS (
    SELECT CASE WHEN grouping(department) = 0 THEN 'department' ELSE 'account' END AS grain,
           account_id, department,
           count(*) FILTER (WHERE opening) AS openings,
           CAST(coalesce(sum(applications) FILTER (WHERE opening), 0) AS BIGINT) AS applications,
           CAST(coalesce(sum(deduplicated) FILTER (WHERE opening), 0) AS BIGINT) AS deduplicated_applications,
           CAST(coalesce(sum(applications) FILTER (WHERE NOT opening), 0) AS BIGINT) AS unmatched_applications
    FROM by_job
    GROUP BY GROUPING SETS ((account_id), (account_id, department))
)
-- grain: account
SELECT account_id, openings, applications, deduplicated_applications,
       CAST(applications AS DOUBLE) / nullif(openings, 0) AS applicants_per_opening,
       unmatched_applications
FROM rollup
WHERE grain = 'account' AND (openings > 0 OR unmatched_applications > 0)
ORDER BY account_id;
-- grain: department
SELECT account_id, department, openings, applications, deduplicated_applications,
       CAST(applications AS DOUBLE) / nullif(openings, 0) AS applicants_per_opening,
       unmatched_applications
FROM rollup
WHERE grain = 'department' AND (openings > 0 OR unmatched_applications > 0)
ORDER BY account_id, department NULLS LAST;
-- grain: job
SELECT account_id, job_id, job_name, department, applications, deduplicated AS deduplicated_applications,
       CAST(applications AS DOUBLE) AS applicants_per_opening
FROM by_job
WHERE opening
ORDER BY account_id, job_id;
