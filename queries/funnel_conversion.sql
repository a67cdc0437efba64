-- name: funnel_conversion
-- title: Funnel conversion
-- params: account, from, to
--
-- Definition: applications reaching each funnel stage (applied -> screened ->
-- interviewed -> offered -> hired) and stage-to-stage conversion (reached
-- this stage / reached the previous one) and overall conversion (reached /
-- applied), by job, department, source and account; one row per group and
-- stage.
--
-- Conventions: an application counts as having reached every earlier stage
-- once it reaches a later one (a candidate moved straight from applied to
-- offered counts as screened and interviewed). The furthest stage is the
-- highest of every stage event and the current stage, so rejected and
-- withdrawn applications count up to the furthest positive stage they
-- reached, and a candidate rejected then hired counts as hired. Unmapped
-- stages (funnel_stage NULL) count as applied only. The cohort is
-- applications by application date (the UTC date of applied_at, else of
-- first_seen_at). Conversion is NULL when the previous stage has none.
-- Deleted applications are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates
-- on the application date).
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
hist AS (
    -- Only events past applied can raise the furthest stage.
    SELECT e.account_id, e.candidate_id,
           max(CASE e.funnel_stage WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3
               WHEN 'offered' THEN 4 WHEN 'hired' THEN 5 END) AS max_rank
    FROM stage_events e, params p
    WHERE e.funnel_stage IN ('screened', 'interviewed', 'offered', 'hired')
      AND (p.account IS NULL OR e.account_id = p.account)
    GROUP BY ALL
),
apps AS (
    SELECT c.account_id, c.job_id, nullif(trim(c.source), '') AS source,
           greatest(coalesce(h.max_rank, 1),
                    CASE c.funnel_stage WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3
                         WHEN 'offered' THEN 4 WHEN 'hired' THEN 5 ELSE 1 END) AS furthest,
           count(*) AS n
    FROM candidates c
    LEFT JOIN hist h USING (account_id, candidate_id), params p
    WHERE c.remote_deleted_at IS NULL
      AND (p.account IS NULL OR c.account_id = p.account)
      AND (p.from_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) >= p.from_date)
      AND (p.to_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) <= p.to_date)
    GROUP BY ALL
),
wide AS (
    -- apps is already counted per job, source and furthest stage, so the
    -- grouping sets run over thousands of rows, not millions.
    SELECT CASE WHEN grouping(a.job_id) = 0 THEN 'job'
                WHEN grouping(department) = 0 THEN 'department'
                WHEN grouping(a.source) = 0 THEN 'source'
                ELSE 'account' END AS grain,
           a.account_id, a.job_id, j.name AS job_name, nullif(trim(j.department), '') AS department, a.source,
           CAST(sum(a.n) AS BIGINT) AS r1,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.furthest >= 2), 0) AS BIGINT) AS r2,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.furthest >= 3), 0) AS BIGINT) AS r3,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.furthest >= 4), 0) AS BIGINT) AS r4,
           CAST(coalesce(sum(a.n) FILTER (WHERE a.furthest >= 5), 0) AS BIGINT) AS r5
    FROM apps a
    LEFT JOIN jobs j ON j.account_id = a.account_id AND j.job_id = a.job_id
    GROUP BY GROUPING SETS ((a.account_id), (a.account_id, department), (a.account_id, a.source),
                            (a.account_id, a.job_id, job_name, department))
),
stages(stage_order, funnel_stage) AS (
    VALUES (1, 'applied'), (2, 'screened'), (3, 'interviewed'), (4, 'offered'), (5, 'hired')
),
long AS (
    SELECT w.*, s.stage_order, s.funnel_stage,
           CASE s.stage_order WHEN 1 THEN r1 WHEN 2 THEN r2 WHEN 3 THEN r3 WHEN 4 THEN r4 ELSE r5 END AS reached,
           CASE s.stage_order WHEN 2 THEN r1 WHEN 3 THEN r2 WHEN 4 THEN r3 WHEN 5 THEN r4 END AS previous
    FROM wide w, stages s
)
SELECT grain, account_id, job_id, job_name, department, source,
       CAST(stage_order AS BIGINT) AS stage_order, funnel_stage, reached,
       CAST(reached AS DOUBLE) / nullif(previous, 0) AS conversion,
       CAST(reached AS DOUBLE) / nullif(r1, 0) AS overall_conversion
FROM long
ORDER BY account_id,
         CASE grain WHEN 'account' THEN 1 WHEN 'department' THEN 2 WHEN 'source' THEN 3 ELSE 4 END,
         department NULLS LAST, source NULLS LAST, job_id, stage_order;
