-- name: pipeline_snapshot
-- title: Pipeline snapshot
-- params: account, as_of
--
-- Definition: open applications by funnel stage as of a date, with the
-- median days they had spent in that stage and since applying.
--
-- Conventions: the stage at as_of is the last stage event at or before the
-- end of as_of (UTC date), so past dates are answered from history and do
-- not change when later events arrive; ties at one instant go to the later
-- funnel stage. Applications applied after as_of are excluded, as are
-- applications deleted on or before as_of. An application whose stage at
-- as_of is hired, rejected or withdrawn is not open. An application with
-- history only after as_of is counted as applied; one with no history at
-- all at its current stage (entered on its application date). Unmapped
-- stages are reported as funnel_stage NULL. Days are calendar days between
-- UTC dates; the application date is applied_at, else first_seen_at.
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
hist AS (
    -- k = the change's instant in microseconds * 8 + its funnel order, so
    -- the largest k before the end of as_of is the stage at as_of (ties at one
    -- instant going to the later stage), and k // 8 when it was entered.
    SELECT e.account_id, e.candidate_id,
           max(epoch_us(e.changed_at) * 8 + CASE e.funnel_stage
                   WHEN 'applied' THEN 1 WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3 WHEN 'offered' THEN 4
                   WHEN 'hired' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7 ELSE 0 END)
               FILTER (WHERE epoch_us(e.changed_at) < p.as_of_end_us) AS k
    FROM stage_events e, params p
    WHERE p.account IS NULL OR e.account_id = p.account
    GROUP BY e.account_id, e.candidate_id
),
snap AS (
    SELECT c.account_id,
           CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) AS applied_on,
           CASE WHEN h.candidate_id IS NULL THEN c.funnel_stage
                WHEN h.k IS NULL THEN 'applied'
                ELSE ['applied', 'screened', 'interviewed', 'offered', 'hired', 'rejected', 'withdrawn'][h.k % 8]
           END AS funnel_stage,
           CAST(make_timestamp(h.k // 8) AS DATE) AS entered_on,
           p.as_of
    FROM candidates c
    LEFT JOIN hist h USING (account_id, candidate_id), params p
    WHERE (p.account IS NULL OR c.account_id = p.account)
      AND (c.remote_deleted_at IS NULL OR epoch_us(c.remote_deleted_at) >= p.as_of_end_us)
      AND epoch_us(coalesce(c.applied_at, c.first_seen_at)) < p.as_of_end_us
)
SELECT account_id, funnel_stage,
       CAST(min(CASE funnel_stage WHEN 'applied' THEN 1 WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3
                WHEN 'offered' THEN 4 END) AS BIGINT) AS stage_order,
       count(*) AS open_applications,
       quantile_cont(date_diff('day', coalesce(entered_on, applied_on), as_of), 0.5) AS median_days_in_stage,
       quantile_cont(date_diff('day', applied_on, as_of), 0.5) AS median_days_since_applied
FROM snap
WHERE coalesce(funnel_stage, '') NOT IN ('hired', 'rejected', 'withdrawn')
GROUP BY account_id, funnel_stage
ORDER BY account_id, stage_order NULLS LAST, funnel_stage;
