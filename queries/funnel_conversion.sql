-- name: funnel_conversion
-- title: Funnel conversion
-- params: account, from, to, as_of
--
-- Definition: of the applications received in the period, how many reached
-- each funnel stage (applied -> screened -> interviewed -> offered -> hired)
-- by as_of, the stage-to-stage conversion (reached this stage / reached the
-- previous one) and the overall conversion (reached / applied); one row per
-- group and stage, by account, department, source and job.
--
-- Standard: pass-through rates of a recruiting funnel as practitioners
-- define them (reaching stage N+1 / reaching stage N; overall = hires /
-- applicants), on an application cohort. Departs in counting reach rather
-- than the stage an application is in: one that skips a stage (applied ->
-- offered) counts as having reached every earlier one.
--
-- Conventions: the cohort is the applications whose application date
-- (applied_at, else first_seen_at) falls in the period, that exist at
-- as_of (applied by then, not deleted by then). The furthest stage reached
-- is the highest of the stage history up to as_of, so
-- rejected and withdrawn applications count up to the furthest positive
-- stage they reached, and a candidate rejected then hired counts as hired.
-- Hired means a standing hire at as_of: a hire moved to Do Not Pursue or
-- withdrawn by then counts as reaching offered. Unmapped stages (funnel_stage
-- NULL) count as applied only. An application with no stage history at all
-- is in its current stage. Conversion is NULL when the previous stage has
-- none. Departments come from the application's job.
--
-- Time zone: application dates are calendar dates in the account's time
-- zone (accounts.timezone).
--
-- Grains: account (default), department, source, job; each with
-- stage_order, funnel_stage, reached, conversion, overall_conversion.
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the application date); as_of (the history is read up to the end
-- of that day; default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
reach AS (
    -- The furthest positive stage each application reached by as_of: only
    -- changes past applied can raise it.
    SELECT e.account_id, e.candidate_id, max(funnel_rank(e.funnel_stage)) AS reached
    FROM params p
    JOIN stage_events e ON e.account_id = p.account_id AND earlier(e.changed_at, p.as_of_end)
    WHERE e.funnel_stage IN ('screened', 'interviewed', 'offered', 'hired')
    GROUP BY e.account_id, e.candidate_id
),
cohort AS (
    -- Applications received in the period that exist at as_of.
    SELECT c.account_id, c.candidate_id, c.job_id, nullif(trim(c.source), '') AS source,
           c.funnel_stage AS current_funnel, r.reached
    FROM params p
    JOIN candidates c ON c.account_id = p.account_id
     AND live_at(c.remote_deleted_at, p.as_of_end)
     AND earlier(coalesce(c.applied_at, c.first_seen_at), p.as_of_end)
     AND (p.from_start IS NULL OR NOT earlier(coalesce(c.applied_at, c.first_seen_at), p.from_start))
     AND (p.to_end IS NULL OR earlier(coalesce(c.applied_at, c.first_seen_at), p.to_end))
    LEFT JOIN reach r ON r.account_id = c.account_id AND r.candidate_id = c.candidate_id
),
no_history AS (
    -- Applications with no stage history at all are in their current stage.
    SELECT k.account_id, k.candidate_id
    FROM cohort k
    WHERE k.reached IS NULL AND funnel_rank(k.current_funnel) BETWEEN 2 AND 5
      AND NOT EXISTS (SELECT 1 FROM stage_events e WHERE e.account_id = k.account_id AND e.candidate_id = k.candidate_id)
),
hired AS (
    SELECT h.account_id, h.candidate_id
    FROM standing_hires((SELECT account FROM args), (SELECT as_of FROM args)) h
),
apps AS (
    -- Counted per job, source and furthest stage, so the grouping sets
    -- below run over thousands of rows, not millions. Hired means a
    -- standing hire: one that does not stand reached offered.
    SELECT k.account_id, k.job_id, k.source,
           CASE WHEN h.candidate_id IS NOT NULL THEN 5
                WHEN n.candidate_id IS NOT NULL THEN least(funnel_rank(k.current_funnel), 4)
                ELSE least(coalesce(k.reached, 1), 4) END AS reached,
           count(*) AS n
    FROM cohort k
    LEFT JOIN no_history n ON n.account_id = k.account_id AND n.candidate_id = k.candidate_id
    LEFT JOIN hired h ON h.account_id = k.account_id AND h.candidate_id = k.candidate_id
    GROUP BY ALL
),
wide AS (
    SELECT CASE WHEN grouping(a.job_id) = 0 THEN 'job'
                WHEN grouping(j.department) = 0 THEN 'department'
                WHEN grouping(a.source) = 0 THEN 'source'
                ELSE 'account' END AS grain,
           a.account_id, a.job_id, j.job_name, j.department, a.source,
           CAST(sum(a.n) AS BIGINT) AS r1,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.reached >= 2), 0) AS BIGINT) AS r2,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.reached >= 3), 0) AS BIGINT) AS r3,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.reached >= 4), 0) AS BIGINT) AS r4,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.reached >= 5), 0) AS BIGINT) AS r5
    FROM apps a
    LEFT JOIN job_openings j ON j.account_id = a.account_id AND j.job_id = a.job_id
    GROUP BY GROUPING SETS ((a.account_id), (a.account_id, j.department), (a.account_id, a.source),
                            (a.account_id, a.job_id, j.job_name, j.department))
),
stages(stage_order, funnel_stage) AS (
    VALUES (1, 'applied'), (2, 'screened'), (3, 'interviewed'), (4, 'offered'), (5, 'hired')
),
long AS (
    SELECT w.grain, w.account_id, w.job_id, w.job_name, w.department, w.source,
           CAST(s.stage_order AS BIGINT) AS stage_order, s.funnel_stage,
           CASE s.stage_order WHEN 1 THEN r1 WHEN 2 THEN r2 WHEN 3 THEN r3 WHEN 4 THEN r4 ELSE r5 END AS reached,
           CAST(CASE s.stage_order WHEN 1 THEN r1 WHEN 2 THEN r2 WHEN 3 THEN r3 WHEN 4 THEN r4 ELSE r5 END AS DOUBLE)
               / nullif(CASE s.stage_order WHEN 2 THEN r1 WHEN 3 THEN r2 WHEN 4 THEN r3 WHEN 5 THEN r4 END, 0) AS conversion,
           CAST(CASE s.stage_order WHEN 1 THEN r1 WHEN 2 THEN r2 WHEN 3 THEN r3 WHEN 4 THEN r4 ELSE r5 END AS DOUBLE)
               / nullif(r1, 0) AS overall_conversion
    FROM wide w, stages s
)
-- grain: account
SELECT account_id, stage_order, funnel_stage, reached, conversion, overall_conversion
FROM long WHERE grain = 'account'
ORDER BY account_id, stage_order;
-- grain: department
SELECT account_id, department, stage_order, funnel_stage, reached, conversion, overall_conversion
FROM long WHERE grain = 'department'
ORDER BY account_id, department NULLS LAST, stage_order;
-- grain: source
SELECT account_id, source, stage_order, funnel_stage, reached, conversion, overall_conversion
FROM long WHERE grain = 'source'
ORDER BY account_id, source NULLS LAST, stage_order;
-- grain: job
SELECT account_id, job_id, job_name, department, stage_order, funnel_stage, reached, conversion, overall_conversion
FROM long WHERE grain = 'job'
ORDER BY account_id, job_id, stage_order;
