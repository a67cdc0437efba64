-- name: pipeline_snapshot
-- title: Pipeline snapshot
-- params: account, as_of, all_jobs
--
-- Definition: the active applications on open jobs at as_of, by the funnel
-- stage they were in, with the median days they had spent in that funnel
-- stage and since applying. With all_jobs, the active applications on every
-- job (on hold, filled, closed, unknown) are counted too.
--
-- Standard: the default of Greenhouse's and Lever's pipeline reports:
-- active applications on open jobs. Departs in answering past dates from
-- the stage history rather than from the current state.
--
-- Conventions: the stage at as_of is the latest stage change at or before
-- the end of as_of (application_states), so past dates are answered from
-- history and do not change when later changes arrive; changes at one
-- instant go to the later funnel stage. An application is active unless
-- its stage at as_of is hired, rejected or withdrawn; applications applied
-- after as_of or deleted by then are left out; one whose history starts
-- after as_of is in applied; one with no history at all is in its current
-- stage since it applied. A job is open at as_of by its status (job_state:
-- open from its opening until it went on hold, was filled or closed; hires
-- do not close it). Days in stage count from the start of the run of
-- consecutive changes in that funnel stage (Phone Screen then Manager
-- Review is one stay in screened). Unmapped stages are funnel_stage NULL.
-- Medians are continuous.
--
-- Time zone: days are differences of calendar dates in the account's time
-- zone (accounts.timezone).
--
-- Parameters: account (NULL = all accounts); as_of (default today in the
-- account's zone); all_jobs (true = applications on every job, not only
-- jobs open at as_of; default false).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
open_jobs AS (
    SELECT account_id, job_id FROM jobs_at((SELECT account FROM args), (SELECT as_of FROM args)) WHERE state = 'open'
),
active AS (
    SELECT s.account_id, s.candidate_id, s.funnel_stage, s.entered_at, s.applied_at, p.as_of, p.as_of_end, p.timezone
    FROM application_states((SELECT account FROM args), (SELECT as_of FROM args),
                            (SELECT CASE WHEN all_jobs THEN NULL ELSE 'open_jobs' END FROM args)) s
    JOIN params p ON p.account_id = s.account_id
    LEFT JOIN open_jobs o ON o.account_id = s.account_id AND o.job_id = s.job_id
    WHERE coalesce(s.funnel_stage, '') NOT IN ('hired', 'rejected', 'withdrawn')
      AND (p.all_jobs OR o.job_id IS NOT NULL)
),
history AS MATERIALIZED (
    -- The stage history of the active applications, read once.
    SELECT a.account_id, a.candidate_id, a.funnel_stage IS NOT DISTINCT FROM e.funnel_stage AS same,
           change_key(e.changed_at, e.funnel_stage) AS k, e.changed_at
    FROM active a
    JOIN stage_events e ON e.account_id = a.account_id AND e.candidate_id = a.candidate_id
     AND earlier(e.changed_at, a.as_of_end)
),
run_start AS (
    -- The stay in a funnel stage starts after the latest change to another
    -- funnel stage: at the earliest change of the final run of changes in
    -- the current funnel stage.
    SELECT account_id, candidate_id, max(k) FILTER (WHERE NOT same) AS other_k
    FROM history
    GROUP BY account_id, candidate_id
),
stay AS (
    SELECT h.account_id, h.candidate_id, min(h.changed_at) AS stay_from
    FROM history h
    JOIN run_start r ON r.account_id = h.account_id AND r.candidate_id = h.candidate_id
    WHERE h.same AND (r.other_k IS NULL OR h.k > r.other_k)
    GROUP BY h.account_id, h.candidate_id
),
snap AS (
    SELECT a.account_id, a.funnel_stage, a.as_of,
           local_date(coalesce(s.stay_from, a.entered_at), z) AS entered_on,
           local_date(a.applied_at, za) AS applied_on
    FROM active a
    LEFT JOIN stay s ON s.account_id = a.account_id AND s.candidate_id = a.candidate_id
    LEFT JOIN time_zone_days z ON z.timezone = a.timezone AND z.local_date = utc_date(coalesce(s.stay_from, a.entered_at))
    LEFT JOIN time_zone_days za ON za.timezone = a.timezone AND za.local_date = utc_date(a.applied_at)
)
SELECT account_id, funnel_stage,
       CAST(nullif(funnel_rank(funnel_stage), 0) AS BIGINT) AS stage_order,
       count(*) AS open_applications,
       quantile_cont(date_diff('day', entered_on, as_of), 0.5) AS median_days_in_stage,
       quantile_cont(date_diff('day', applied_on, as_of), 0.5) AS median_days_since_applied
FROM snap
GROUP BY account_id, funnel_stage
ORDER BY account_id, stage_order NULLS LAST;
