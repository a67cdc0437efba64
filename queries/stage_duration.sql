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
accts AS (
    -- params with a small number for each account, for the funnel grain's
    -- window.
    SELECT *, CAST(row_number() OVER (ORDER BY account_id) AS INTEGER) AS acct FROM params
),
period AS (
    -- The period as day numbers (days since 1970-01-01).
    SELECT any_value(from_date) - DATE '1970-01-01' AS from_n, any_value(to_date) - DATE '1970-01-01' AS to_n
    FROM params
),
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
    SELECT c.account_id, c.candidate_id, hash(c.account_id, c.candidate_id) AS cid
    FROM candidates c JOIN params p ON p.account_id = c.account_id
    WHERE live_at(c.remote_deleted_at, p.as_of_end) AND earlier(coalesce(c.applied_at, c.first_seen_at), p.as_of_end)
),
ev AS (
    -- The window below is the expensive step, so it carries numbers only:
    -- cid numbers the application (see live), code stands for (account,
    -- stage name, funnel stage) and is turned back into names by the small
    -- stage_names dictionary at the end, k orders the changes
    -- (change_key), and v packs the local date of the change (as days
    -- since 1970-01-01) with its funnel rank: day * 8 + rank.
    -- in_period says whether the change's day is in the period.
    SELECT c.cid, l.acct, l.code, l.k, l.v, l.as_of_n,
           (l.from_n IS NULL OR l.v // 8 >= l.from_n) AND (l.to_n IS NULL OR l.v // 8 <= l.to_n) AS in_period
    FROM (
        SELECT e.account_id, e.candidate_id, p.acct, hash(e.account_id, e.stage, e.funnel_stage) AS code,
               change_key(e.changed_at, e.funnel_stage) AS k,
               CAST((local_date(e.changed_at, z) - DATE '1970-01-01') * 8 + funnel_rank(e.funnel_stage) AS INTEGER) AS v,
               CAST(p.as_of - DATE '1970-01-01' AS INTEGER) AS as_of_n,
               p.from_date - DATE '1970-01-01' AS from_n, p.to_date - DATE '1970-01-01' AS to_n
        FROM stage_events e
        JOIN accts p ON p.account_id = e.account_id
        LEFT JOIN days z ON z.timezone = p.timezone AND z.local_date = utc_date(e.changed_at)
        WHERE earlier(e.changed_at, p.as_of_end)
    ) l
    JOIN live c ON c.account_id = l.account_id AND c.candidate_id = l.candidate_id
),
stage_names AS (
    -- The dictionary of codes: grouping by the number is cheaper than by
    -- the three names.
    SELECT code, account_id, stage, funnel_stage
    FROM (SELECT hash(e.account_id, e.stage, e.funnel_stage) AS code, any_value(e.account_id) AS account_id,
                 any_value(e.stage) AS stage, any_value(e.funnel_stage) AS funnel_stage
          FROM stage_events e
          GROUP BY 1)
),
stints AS (
    -- Each change lasts until the application's next one; the funnel grain
    -- also needs the change before (one window serves both grains).
    SELECT cid, acct, code, k, v, as_of_n, in_period,
           lag(v) OVER w AS prev_v,
           lead(v) OVER w AS next_v
    FROM ev
    WINDOW w AS (PARTITION BY cid ORDER BY k)
),
measured AS (
    -- A stint with no next change ends at as_of, unless it is terminal.
    SELECT s.code, s.next_v IS NULL AS still_open, coalesce(s.next_v // 8, s.as_of_n) - s.v // 8 AS days
    FROM stints s
    WHERE (s.next_v IS NOT NULL OR s.v % 8 BETWEEN 0 AND 4) AND s.in_period
),
counted AS (
    -- Funnel grain, in one pass over the window: a stint alone in its funnel
    -- stage (no neighbour in the same one) is counted at once; the others,
    -- consecutive stints in one funnel stage, are rare and kept whole for
    -- the merge below.
    SELECT s.acct, s.v % 8 AS r, s.next_v IS NULL AS still_open,
           coalesce(s.next_v // 8, s.as_of_n) - s.v // 8 AS days,
           count(*) FILTER (WHERE s.prev_v % 8 IS DISTINCT FROM s.v % 8 AND s.next_v % 8 IS DISTINCT FROM s.v % 8
                              AND (s.next_v IS NOT NULL OR s.v % 8 BETWEEN 0 AND 4) AND s.in_period) AS n,
           list({'cid': s.cid, 'k': s.k, 'v': s.v, 'prev_v': s.prev_v, 'next_v': s.next_v})
               FILTER (WHERE s.prev_v % 8 IS NOT DISTINCT FROM s.v % 8 OR s.next_v % 8 IS NOT DISTINCT FROM s.v % 8) AS merged
    FROM stints s
    GROUP BY ALL
),
merged AS (
    -- The consecutive stints of one funnel stage, numbered by run (run
    -- starts so far) and merged: from the run's first change to the end of
    -- its last stint.
    SELECT acct, any_value(m.v) % 8 AS r, min(m.v) AS v, arg_max_null(m.next_v, m.k) AS next_v
    FROM (SELECT acct, m, sum(CASE WHEN m.prev_v % 8 IS DISTINCT FROM m.v % 8 THEN 1 ELSE 0 END)
                     OVER (PARTITION BY m.cid ORDER BY m.k ROWS UNBOUNDED PRECEDING) AS run
          FROM (SELECT acct, unnest(merged) AS m FROM counted WHERE merged IS NOT NULL))
    GROUP BY acct, m.cid, run
),
measured_runs AS (
    SELECT acct, r, still_open, days, n FROM counted WHERE n > 0
    UNION ALL
    SELECT s.acct, s.r, s.next_v IS NULL, coalesce(s.next_v // 8, a.as_of - DATE '1970-01-01') - s.v // 8, 1
    FROM merged s JOIN accts a ON a.acct = s.acct, period q
    WHERE (s.next_v IS NOT NULL OR s.r BETWEEN 0 AND 4)
      AND (q.from_n IS NULL OR s.v // 8 >= q.from_n)
      AND (q.to_n IS NULL OR s.v // 8 <= q.to_n)
),
-- Stints counted per stage and length in days: quantiles are computed from
-- these few rows instead of from every stint. Stints sorted by length
-- occupy positions first_pos .. first_pos+n-1 of their group;
-- binned_quantile (shared/definitions.sql) gives their quantile_cont.
bins_stage AS (
    SELECT n.account_id, n.funnel_stage, n.stage, h.days, sum(h.n) AS n, sum(h.open_n) AS open_n
    FROM (SELECT code, days, count(*) AS n, count(*) FILTER (WHERE still_open) AS open_n
          FROM measured GROUP BY code, days) h
    JOIN stage_names n USING (code)
    GROUP BY ALL
),
bins_funnel AS (
    SELECT a.account_id, CASE WHEN h.r > 0 THEN key_funnel_stage(h.r) END AS funnel_stage,
           NULL::VARCHAR AS stage, h.days, h.n, h.open_n
    FROM (SELECT acct, r, days, sum(n) AS n, coalesce(sum(n) FILTER (WHERE still_open), 0) AS open_n
          FROM measured_runs GROUP BY acct, r, days) h
    JOIN accts a ON a.acct = h.acct
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
