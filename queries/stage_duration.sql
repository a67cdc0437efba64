-- name: stage_duration
-- title: Time in stage
-- params: account, from, to, as_of
--
-- Definition: days an application spends in each stage, from the stage
-- history: from entering a stage to the next stage change, or to as_of for
-- the current stage of an application still open; count of stints, stints
-- still open at as_of, median, p90 and mean days, by account stage name and
-- rolled up by funnel stage, per account.
--
-- Conventions: as dbt_greenhouse's days_in_stage (valid_from = change,
-- valid_until = lead(change) or now), counted as whole calendar days between
-- UTC dates. History is read as of as_of: events after as_of are ignored.
-- Each stage_events row is one change (the warehouse deduplicates them), so
-- a stint runs from one row to the next of the same application; changes at
-- one instant are ordered by funnel order. The last stint of a closed
-- application (hired, rejected, withdrawn) has no end and is not measured,
-- but a rejected stint that ended with a rehire is; a history ending in a
-- non-terminal stage is open and runs to as_of. Unmapped stages appear with
-- funnel_stage NULL. Median and p90 are continuous quantiles (as DuckDB's
-- quantile_cont), computed from a histogram of whole days. Deleted
-- applications are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates on
-- the day the stage was entered); as_of (history cut-off and the end of open
-- stints; default today, UTC).
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
ev AS (
    -- The window below is the expensive step, so it carries numbers only:
    -- code stands for (account, stage name, funnel stage) and is turned back
    -- into names by the small stage_names dictionary at the end.
    SELECT e.account_id, e.candidate_id, e.changed_at,
           hash(e.account_id, e.stage, e.funnel_stage) AS code,
           CASE e.funnel_stage WHEN 'applied' THEN 1 WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3
                WHEN 'offered' THEN 4 WHEN 'hired' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7
                ELSE 0 END AS tie
    FROM stage_events e, params p
    WHERE (p.account IS NULL OR e.account_id = p.account)
      AND epoch_us(e.changed_at) < p.as_of_end_us
),
live AS (
    -- Joining the live applications drops deleted ones and numbers them:
    -- a hash of the two names is a cheaper partition key than the names
    -- (and, unlike rowid, exists over views of Parquet too).
    SELECT hash(c.account_id, c.candidate_id) AS cid, ev.code, ev.tie, ev.changed_at FROM ev
    JOIN candidates c ON c.account_id = ev.account_id AND c.candidate_id = ev.candidate_id
    WHERE c.remote_deleted_at IS NULL
),
stints AS (
    -- Each change lasts until the application's next one.
    SELECT code, tie, changed_at,
           lead(changed_at) OVER (PARTITION BY cid ORDER BY changed_at, tie) AS next_at
    FROM live
),
histogram AS (
    -- Stints counted per stage and length in days: quantiles are computed
    -- from these few rows instead of from every stint.
    SELECT s.code, s.next_at IS NULL AS still_open,
           date_diff('day', CAST(make_timestamp(epoch_us(s.changed_at)) AS DATE),
                     coalesce(CAST(make_timestamp(epoch_us(s.next_at)) AS DATE), p.as_of)) AS days,
           count(*) AS n
    FROM stints s, params p
    WHERE (s.next_at IS NOT NULL OR s.tie < 5)
      AND (p.from_date IS NULL OR CAST(make_timestamp(epoch_us(s.changed_at)) AS DATE) >= p.from_date)
      AND (p.to_date IS NULL OR CAST(make_timestamp(epoch_us(s.changed_at)) AS DATE) <= p.to_date)
    GROUP BY ALL
),
stage_names AS (
    SELECT DISTINCT e.account_id, e.stage, e.funnel_stage, hash(e.account_id, e.stage, e.funnel_stage) AS code
    FROM stage_events e, params p
    WHERE p.account IS NULL OR e.account_id = p.account
),
bins AS (
    SELECT CASE WHEN grouping(n.stage) = 0 THEN 'stage' ELSE 'funnel_stage' END AS grain,
           n.account_id, n.funnel_stage, n.stage, h.days,
           sum(h.n) AS n, coalesce(sum(h.n) FILTER (WHERE h.still_open), 0) AS open_n
    FROM histogram h JOIN stage_names n USING (code)
    GROUP BY GROUPING SETS ((n.account_id, n.funnel_stage, h.days), (n.account_id, n.funnel_stage, n.stage, h.days))
),
placed AS (
    -- Stints sorted by length occupy positions first_pos .. first_pos+n-1
    -- of their group; quantile_cont(q) interpolates between the stints at
    -- positions floor and ceil of (total - 1) * q.
    SELECT b.*,
           sum(n) OVER (PARTITION BY grain, account_id, funnel_stage, stage ORDER BY days) - n AS first_pos,
           sum(n) OVER (PARTITION BY grain, account_id, funnel_stage, stage) AS total
    FROM bins b
),
quantiles AS (
    SELECT grain, account_id, funnel_stage, stage,
           CAST(any_value(total) AS BIGINT) AS stints,
           CAST(sum(open_n) AS BIGINT) AS open_stints,
           max(days) FILTER (WHERE first_pos <= floor((total - 1) * 0.5)) AS lo50,
           max(days) FILTER (WHERE first_pos <= ceil((total - 1) * 0.5)) AS hi50,
           any_value((total - 1) * 0.5 - floor((total - 1) * 0.5)) AS frac50,
           max(days) FILTER (WHERE first_pos <= floor((total - 1) * 0.9)) AS lo90,
           max(days) FILTER (WHERE first_pos <= ceil((total - 1) * 0.9)) AS hi90,
           any_value((total - 1) * 0.9 - floor((total - 1) * 0.9)) AS frac90,
           sum(days * n) / sum(n) AS mean_days
    FROM placed
    GROUP BY grain, account_id, funnel_stage, stage
)
SELECT grain, account_id, funnel_stage, stage,
       CAST(CASE funnel_stage WHEN 'applied' THEN 1 WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3
            WHEN 'offered' THEN 4 WHEN 'hired' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7
            END AS BIGINT) AS stage_order,
       stints, open_stints,
       CAST(lo50 + frac50 * (hi50 - lo50) AS DOUBLE) AS median_days,
       CAST(lo90 + frac90 * (hi90 - lo90) AS DOUBLE) AS p90_days,
       CAST(mean_days AS DOUBLE) AS mean_days
FROM quantiles
ORDER BY account_id, stage_order NULLS LAST, funnel_stage, grain, stage;
