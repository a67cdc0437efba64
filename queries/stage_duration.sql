-- name: stage_duration
-- title: Time in stage
-- params: account, from, to, as_of
--
-- Definition: calendar days an application spends in each stage, from the
-- stage history read up to as_of: from entering a stage to the next stage
-- change, or to as_of for the current stage of an application still open;
-- count of stints, stints still open at as_of, median, p90 and mean days,
-- per account and funnel stage, or per account stage name.
--
-- Standard: dbt_greenhouse's days_in_stage (greenhouse__application_history:
-- valid_from = the change, valid_until = lead(change) or now), counted in
-- whole calendar days between local dates, with as_of in place of now.
-- Departs in two ways: the last stage of a closed application (hired,
-- rejected, withdrawn) has no end and is not measured, where dbt_greenhouse
-- runs it to now; and the funnel-stage grain merges consecutive stints in
-- the same funnel stage (Phone Screen then Manager Review is one stint in
-- screened), so it measures the time an application spent in screening
-- rather than pooling the stints of stage names.
--
-- Conventions: history is read as of as_of: changes after its end are
-- ignored, and applications deleted by then, or applied after it, are
-- left out. Each stage_events row is one change (the warehouse deduplicates
-- them); a stint runs from one change to the application's next; changes at
-- one instant are ordered by funnel order. A rejected or withdrawn stint
-- that ended with a move back (a rehire) is measured. A history ending in a
-- non-terminal stage is open and runs to as_of. Unmapped stages have
-- funnel_stage NULL, and consecutive unmapped stints merge at the funnel
-- grain. A stint counts in the period by the day it was entered. Median and
-- p90 are continuous quantiles (as quantile_cont), computed from a
-- histogram of whole days.
--
-- Time zone: days are differences of calendar dates in the account's time
-- zone (accounts.timezone).
--
-- Grains: funnel_stage (default), stage; each with stage_order (1 applied ..
-- 7 withdrawn, NULL unmapped), stints, open_stints, median_days, p90_days,
-- mean_days.
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the day the stage was entered); as_of (history cut-off and the
-- end of open stints; default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
days AS (
    -- The local days the history can fall on, from the day before the first
    -- change to the day after as_of, so the join below builds a small table.
    SELECT z.* FROM time_zone_days z
    WHERE z.timezone IN (SELECT timezone FROM params)
      AND z.local_date BETWEEN (SELECT utc_date(min(changed_at)) FROM stage_events) - 1
                           AND (SELECT max(as_of) FROM params) + 1
),
live AS (
    -- The applications that exist at as_of, numbered by a hash of their
    -- names (views over Parquet, as the lake has, have no rowid).
    SELECT hash(c.account_id, c.candidate_id) AS cid
    FROM candidates c JOIN params p ON p.account_id = c.account_id
    WHERE live_at(c.remote_deleted_at, p.as_of_end) AND earlier(coalesce(c.applied_at, c.first_seen_at), p.as_of_end)
),
ev AS (
    -- The windows below are the expensive step, so they carry numbers only:
    -- cid numbers the application (a hash of its names, as live does), code
    -- stands for (account, stage name, funnel stage) and is turned back
    -- into names by the small stage_names dictionary at the end, k orders
    -- the changes (change_key), and v packs the local date of the change
    -- (as days since 1970-01-01) with its funnel rank: day * 8 + rank.
    -- code is NULL for a change whose day is outside the period: its stint
    -- is not counted, but it still ends the stint before it. The
    -- applications that do not exist at as_of are left out by a semi join
    -- on cid (numbers, not names).
    SELECT cid, CASE WHEN (from_n IS NULL OR v // 8 >= from_n) AND (to_n IS NULL OR v // 8 <= to_n) THEN code END AS code, k, v
    FROM (SELECT hash(e.account_id, e.candidate_id) AS cid, hash(e.account_id, e.stage, e.funnel_stage) AS code,
                 change_key(e.changed_at, e.funnel_stage) AS k,
                 CAST((local_date(e.changed_at, z) - DATE '1970-01-01') * 8 + funnel_rank(e.funnel_stage) AS INTEGER) AS v,
                 p.from_date - DATE '1970-01-01' AS from_n, p.to_date - DATE '1970-01-01' AS to_n
          FROM stage_events e
          JOIN params p ON p.account_id = e.account_id
          LEFT JOIN days z ON z.timezone = p.timezone AND z.local_date = utc_date(e.changed_at)
          WHERE earlier(e.changed_at, p.as_of_end))
    WHERE cid IN (SELECT cid FROM live)
),
stage_names AS (
    -- The dictionary of codes, with the funnel rank (r) of each: grouping
    -- by the number is cheaper than by the three names.
    SELECT code, account_id, stage, funnel_stage, funnel_rank(funnel_stage) AS r
    FROM (SELECT hash(e.account_id, e.stage, e.funnel_stage) AS code, any_value(e.account_id) AS account_id,
                 any_value(e.stage) AS stage, any_value(e.funnel_stage) AS funnel_stage
          FROM stage_events e
          GROUP BY 1)
),
-- Stage grain: each change lasts until the application's next one; one
-- window with lead only (the stage grain needs no change before).
stints AS (
    SELECT code, v, lead(v) OVER (PARTITION BY cid ORDER BY k) AS next_v
    FROM ev
),
hist AS (
    -- The stints counted per code, open or not, and length: a stint with no
    -- next change ends at as_of, unless it is terminal. An open stint is
    -- kept by the day it was entered (d) until bins_stage and bins_funnel,
    -- which know its account's as_of.
    SELECT code, next_v IS NULL AS still_open,
           CASE WHEN next_v IS NULL THEN v // 8 ELSE next_v // 8 - v // 8 END AS d, count(*) AS n
    FROM stints
    WHERE code IS NOT NULL AND (next_v IS NOT NULL OR v % 8 BETWEEN 0 AND 4)
    GROUP BY ALL
),
-- Funnel grain: consecutive stints in one funnel stage merge. One window
-- gives each change its previous and next change. A stint alone in its
-- funnel stage (no neighbour in the same one) is counted at once (alone);
-- of a run of several stints in one funnel stage, only the first and the
-- last are kept (edge), and the first is paired with the last, the next
-- edge of the application, by a second, smaller window. sp and sn: the
-- previous and the next change are in the same funnel stage.
funnel_stints AS (
    SELECT cid, k, code, v, next_v, sn AS first,
           NOT sp AND NOT sn AND code IS NOT NULL AND (next_v IS NOT NULL OR v % 8 BETWEEN 0 AND 4) AS alone,
           sp <> sn AS edge
    FROM (SELECT cid, k, code, v, next_v,
                 prev_v % 8 IS NOT DISTINCT FROM v % 8 AS sp, next_v % 8 IS NOT DISTINCT FROM v % 8 AS sn
          FROM (SELECT cid, k, code, v, lag(v) OVER w AS prev_v, lead(v) OVER w AS next_v
                FROM ev
                WINDOW w AS (PARTITION BY cid ORDER BY k)))
),
alone_hist AS (
    -- As hist, for the stints alone in their funnel stage.
    SELECT code, next_v IS NULL AS still_open,
           CASE WHEN next_v IS NULL THEN v // 8 ELSE next_v // 8 - v // 8 END AS d, count(*) AS n
    FROM funnel_stints
    WHERE alone
    GROUP BY ALL
),
runs AS (
    -- The runs, merged: from the first change to the end of the last stint;
    -- counted in the period by the first.
    SELECT code, v, next_v
    FROM (SELECT code, v, first, lead(next_v) OVER (PARTITION BY cid ORDER BY k) AS next_v
          FROM funnel_stints
          WHERE edge)
    WHERE first AND code IS NOT NULL
),
run_hist AS (
    -- As hist, for the merged runs.
    SELECT code, next_v IS NULL AS still_open,
           CASE WHEN next_v IS NULL THEN v // 8 ELSE next_v // 8 - v // 8 END AS d, count(*) AS n
    FROM runs
    WHERE next_v IS NOT NULL OR v % 8 BETWEEN 0 AND 4
    GROUP BY ALL
),
-- Stints counted per stage and length in days: quantiles are computed from
-- these few rows instead of from every stint. Stints sorted by length
-- occupy positions first_pos .. first_pos+n-1 of their group;
-- binned_quantile (shared/definitions.sql) gives their quantile_cont.
bins_stage AS (
    SELECT n.account_id, n.funnel_stage, n.stage, CASE WHEN h.still_open THEN p.as_of - DATE '1970-01-01' - h.d ELSE h.d END AS days,
           sum(h.n) AS n, coalesce(sum(h.n) FILTER (WHERE h.still_open), 0) AS open_n
    FROM hist h
    JOIN stage_names n USING (code)
    JOIN params p ON p.account_id = n.account_id
    GROUP BY ALL
),
bins_funnel AS (
    SELECT n.account_id, CASE WHEN n.r > 0 THEN key_funnel_stage(n.r) END AS funnel_stage,
           NULL::VARCHAR AS stage, CASE WHEN h.still_open THEN p.as_of - DATE '1970-01-01' - h.d ELSE h.d END AS days,
           sum(h.n) AS n, coalesce(sum(h.n) FILTER (WHERE h.still_open), 0) AS open_n
    FROM (SELECT code, still_open, d, n FROM alone_hist
          UNION ALL
          SELECT code, still_open, d, n FROM run_hist) h
    JOIN stage_names n USING (code)
    JOIN params p ON p.account_id = n.account_id
    GROUP BY ALL
),
-- The stints of each grain counted and summarised per group (stage is NULL
-- at the funnel_stage grain).
stats AS (
    SELECT grain, account_id, funnel_stage, stage,
           CAST(nullif(funnel_rank(funnel_stage), 0) AS BIGINT) AS stage_order,
           CAST(any_value(total) AS BIGINT) AS stints,
           CAST(sum(open_n) AS BIGINT) AS open_stints,
           binned_quantile(days, first_pos, total, 0.5) AS median_days,
           binned_quantile(days, first_pos, total, 0.9) AS p90_days,
           CAST(sum(days * n) / sum(n) AS DOUBLE) AS mean_days
    FROM (SELECT b.*,
                 sum(n) OVER (PARTITION BY grain, account_id, funnel_stage, stage ORDER BY days) - n AS first_pos,
                 sum(n) OVER (PARTITION BY grain, account_id, funnel_stage, stage) AS total
          FROM (SELECT 'funnel_stage' AS grain, * FROM bins_funnel
                UNION ALL
                SELECT 'stage' AS grain, * FROM bins_stage) b)
    GROUP BY grain, account_id, funnel_stage, stage
)
-- grain: funnel_stage
SELECT * EXCLUDE (grain, stage) FROM stats WHERE grain = 'funnel_stage'
ORDER BY account_id, stage_order NULLS LAST;
-- grain: stage
SELECT * EXCLUDE (grain) FROM stats WHERE grain = 'stage'
ORDER BY account_id, stage_order NULLS LAST, stage;
