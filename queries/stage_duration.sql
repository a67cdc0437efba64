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
-- left out. The stints are the warehouse's stage_stints, derived from
-- stage_events (each row one change; the warehouse deduplicates them): a
-- stint runs from one change to the application's next, and a stint whose
-- next change is after as_of is open; changes at one instant are ordered by
-- funnel order. A rejected or withdrawn stint
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
      AND z.local_date BETWEEN (SELECT utc_date(min(entered_at)) FROM stage_stints) - 1
                           AND (SELECT max(as_of) FROM params) + 1
),
live AS (
    -- The applications that exist at as_of, numbered by a hash of their
    -- names (views over Parquet, as the lake has, have no rowid).
    SELECT hash(c.account_id, c.candidate_id) AS cid
    FROM candidates c JOIN params p ON p.account_id = c.account_id
    WHERE live_at(c.remote_deleted_at, p.as_of_end) AND earlier(coalesce(c.applied_at, c.first_seen_at), p.as_of_end)
),
ends AS (
    -- Each grain's stints: at the stage grain every stint, ending at the
    -- next change (left_at); at the funnel_stage grain each stay in a
    -- funnel stage, from its first stint to the next change to another
    -- funnel stage (funnel_left_at).
    SELECT 'stage' AS grain, account_id, candidate_id, stage, funnel_stage, entered_at, left_at
    FROM stage_stints
    UNION ALL
    SELECT 'funnel_stage' AS grain, account_id, candidate_id, stage, funnel_stage, entered_at, funnel_left_at
    FROM stage_stints
    WHERE enters_funnel_stage
),
st AS (
    -- The stints entered by as_of, as numbers: cid numbers the application
    -- (a hash of its names, as live does), code stands for (account, stage
    -- name, funnel stage) and is turned back into names by the small
    -- stage_names dictionary at the end; v packs the local date the stint
    -- was entered (days since 1970-01-01) with its funnel rank: day * 8 +
    -- rank; lv is the local date it ended (NULL: open at as_of, with no
    -- later change by then). in_p: entered in the period. The applications
    -- that do not exist at as_of are left out by a semi join on cid.
    SELECT grain, code, v,
           CASE WHEN earlier(left_at, as_of_end) THEN local_date(left_at, zl) - DATE '1970-01-01' END AS lv,
           (from_n IS NULL OR v // 8 >= from_n) AND (to_n IS NULL OR v // 8 <= to_n) AS in_p
    FROM (SELECT s.grain, hash(s.account_id, s.candidate_id) AS cid, hash(s.account_id, s.stage, s.funnel_stage) AS code,
                 CAST((local_date(s.entered_at, z) - DATE '1970-01-01') * 8 + funnel_rank(s.funnel_stage) AS INTEGER) AS v,
                 s.left_at, p.as_of_end, zl,
                 p.from_date - DATE '1970-01-01' AS from_n, p.to_date - DATE '1970-01-01' AS to_n
          FROM ends s
          JOIN params p ON p.account_id = s.account_id
          LEFT JOIN days z ON z.timezone = p.timezone AND z.local_date = utc_date(s.entered_at)
          LEFT JOIN days zl ON zl.timezone = p.timezone AND zl.local_date = utc_date(s.left_at)
          WHERE earlier(s.entered_at, p.as_of_end))
    WHERE cid IN (SELECT cid FROM live)
),
stage_names AS (
    -- The dictionary of codes, with the funnel rank (r) of each: grouping
    -- by the number is cheaper than by the three names.
    SELECT code, account_id, stage, funnel_stage, funnel_rank(funnel_stage) AS r
    FROM (SELECT hash(e.account_id, e.stage, e.funnel_stage) AS code, any_value(e.account_id) AS account_id,
                 any_value(e.stage) AS stage, any_value(e.funnel_stage) AS funnel_stage
          FROM stage_stints e
          GROUP BY 1)
),
-- The stints counted per grain and code, open or not, and length: a stint
-- with no end by as_of is open and runs to as_of, unless it is terminal
-- (hired, rejected, withdrawn), when it is not measured. An open stint is
-- kept by the day it was entered (d) until bins_stage and bins_funnel,
-- which know its account's as_of.
hist AS (
    SELECT grain, code, lv IS NULL AS still_open, CASE WHEN lv IS NULL THEN v // 8 ELSE lv - v // 8 END AS d, count(*) AS n
    FROM st
    WHERE in_p AND (lv IS NOT NULL OR v % 8 BETWEEN 0 AND 4)
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
    WHERE h.grain = 'stage'
    GROUP BY ALL
),
bins_funnel AS (
    SELECT n.account_id, CASE WHEN n.r > 0 THEN key_funnel_stage(n.r) END AS funnel_stage,
           NULL::VARCHAR AS stage, CASE WHEN h.still_open THEN p.as_of - DATE '1970-01-01' - h.d ELSE h.d END AS days,
           sum(h.n) AS n, coalesce(sum(h.n) FILTER (WHERE h.still_open), 0) AS open_n
    FROM hist h
    JOIN stage_names n USING (code)
    JOIN params p ON p.account_id = n.account_id
    WHERE h.grain = 'funnel_stage'
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
