-- name: hiring_velocity
-- title: Hiring velocity
-- params: account, from, to
--
-- Definition: hires per calendar week and per calendar month, per account,
-- with periods that had no hire listed as 0.
--
-- Conventions: a hire is an application that reached the hired stage, dated
-- by its first hired stage event (else candidates.hired_at), on its UTC date.
-- Weeks are ISO weeks starting Monday; period_start is the Monday or the
-- first of the month, period_end the last day. Periods run from the first to
-- the last hire of each account, or across from..to when given. Deleted
-- applications are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates
-- on the hire date).
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
    SELECT c.account_id, CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) AS hired_on
    FROM candidates c
    LEFT JOIN hire_events h USING (account_id, candidate_id), params p
    WHERE c.remote_deleted_at IS NULL
      AND (p.account IS NULL OR c.account_id = p.account)
      AND coalesce(h.hired_at, c.hired_at) IS NOT NULL
      AND (p.from_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) >= p.from_date)
      AND (p.to_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) <= p.to_date)
),
bounds AS (
    SELECT h.account_id, coalesce(any_value(p.from_date), min(h.hired_on)) AS lo,
           coalesce(any_value(p.to_date), max(h.hired_on)) AS hi
    FROM hires h, params p
    GROUP BY h.account_id
),
grains(grain, step) AS (
    VALUES ('week', INTERVAL 7 DAY), ('month', INTERVAL 1 MONTH)
),
periods AS (
    SELECT b.account_id, g.grain,
           CAST(unnest(generate_series(date_trunc(g.grain, b.lo), date_trunc(g.grain, b.hi), g.step)) AS DATE) AS period_start
    FROM bounds b, grains g
),
counted AS (
    SELECT account_id, 'week' AS grain, CAST(date_trunc('week', hired_on) AS DATE) AS period_start, count(*) AS hires
    FROM hires GROUP BY ALL
    UNION ALL
    SELECT account_id, 'month', CAST(date_trunc('month', hired_on) AS DATE), count(*)
    FROM hires GROUP BY ALL
)
SELECT pr.grain, pr.account_id, pr.period_start,
       CAST(CASE pr.grain WHEN 'week' THEN pr.period_start + INTERVAL 6 DAY
            ELSE pr.period_start + INTERVAL 1 MONTH - INTERVAL 1 DAY END AS DATE) AS period_end,
       coalesce(c.hires, 0) AS hires
FROM periods pr
LEFT JOIN counted c USING (account_id, grain, period_start)
ORDER BY pr.account_id, pr.grain DESC, pr.period_start;
