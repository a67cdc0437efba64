-- name: applicants_per_opening
-- title: Applicants per opening
-- params: account, from, to
--
-- Definition: applications received in the period divided by the openings
-- (jobs) open at some time in the period, per job and rolled up by
-- department and account; also the applications left when each person is
-- counted once per job (deduplicated_applications).
--
-- Conventions: ApplicantStack has no headcount per requisition, so each job
-- is one opening. A job is open from its opening date (opened_at, UTC) until
-- its first hire on or after that date, or, for a job closed or filled with
-- no such hire, until its last update (remote_updated_at); a job with
-- neither is still open. ATS duplicate merging varies, so applications from
-- the same person_key (normalized e-mail; none = a distinct person) to one
-- job are also counted once; roll-ups sum the jobs, so a person who applied
-- to two jobs counts twice there. A job with applications but no opening in
-- the period is listed with openings 0 and a NULL ratio. Deleted records,
-- and applications to deleted or unknown jobs, are excluded. The
-- application date is applied_at, else first_seen_at.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates;
-- applications by application date, openings by overlap; NULL = unbounded).
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
    WHERE c.remote_deleted_at IS NULL AND (p.account IS NULL OR c.account_id = p.account)
      AND (h.hired_at IS NOT NULL OR c.hired_at IS NOT NULL)
),
jobs_open AS (
    SELECT j.account_id, j.job_id, j.name AS job_name, nullif(trim(j.department), '') AS department,
           j.opened_on, min(h.hired_on) AS filled_on,
           CASE WHEN j.status IN ('filled', 'closed')
                THEN CAST(make_timestamp(epoch_us(j.remote_updated_at)) AS DATE) END AS closed_on
    FROM (SELECT *, CAST(make_timestamp(epoch_us(coalesce(opened_at, remote_created_at))) AS DATE) AS opened_on
          FROM jobs) j
    LEFT JOIN hires h ON h.account_id = j.account_id AND h.job_id = j.job_id AND h.hired_on >= j.opened_on,
    params p
    WHERE j.remote_deleted_at IS NULL AND (p.account IS NULL OR j.account_id = p.account)
    GROUP BY ALL
),
per_job AS (
    SELECT j.account_id, j.job_id, j.job_name, j.department,
           CASE WHEN j.opened_on IS NOT NULL
                 AND (p.to_date IS NULL OR j.opened_on <= p.to_date)
                 AND (p.from_date IS NULL OR coalesce(j.filled_on, j.closed_on) IS NULL
                      OR coalesce(j.filled_on, j.closed_on) >= p.from_date)
                THEN 1 ELSE 0 END AS openings
    FROM jobs_open j, params p
),
apps AS (
    -- Per job: applications, and people counted once per job.
    SELECT c.account_id, c.job_id, count(*) AS applications,
           count(DISTINCT coalesce(c.person_key, '#' || c.candidate_id)) AS deduplicated
    FROM candidates c, params p
    WHERE c.remote_deleted_at IS NULL AND (p.account IS NULL OR c.account_id = p.account)
      AND (p.from_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) >= p.from_date)
      AND (p.to_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) <= p.to_date)
    GROUP BY c.account_id, c.job_id
),
by_job AS (
    SELECT j.account_id, j.job_id, j.job_name, j.department, j.openings,
           coalesce(a.applications, 0) AS applications, coalesce(a.deduplicated, 0) AS deduplicated
    FROM per_job j
    LEFT JOIN apps a ON a.account_id = j.account_id AND a.job_id = j.job_id
    WHERE j.openings > 0 OR a.applications > 0
)
SELECT CASE WHEN grouping(job_id) = 0 THEN 'job'
            WHEN grouping(department) = 0 THEN 'department'
            ELSE 'account' END AS grain,
       account_id, job_id, job_name, department,
       CAST(sum(openings) AS BIGINT) AS openings,
       CAST(sum(applications) AS BIGINT) AS applications,
       CAST(sum(deduplicated) AS BIGINT) AS deduplicated_applications,
       CAST(sum(applications) AS DOUBLE) / nullif(sum(openings), 0) AS applicants_per_opening
FROM by_job
GROUP BY GROUPING SETS ((account_id), (account_id, department), (account_id, job_id, job_name, department))
ORDER BY account_id, CASE grain WHEN 'account' THEN 1 WHEN 'department' THEN 2 ELSE 3 END,
         department NULLS LAST, job_id;
