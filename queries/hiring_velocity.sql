-- name: hiring_velocity
-- title: Hiring velocity
-- params: account, from, to, as_of
--
-- Definition: hires per calendar month or ISO week, per account, with
-- periods that had no hire listed as 0, and each period marked partial when
-- the range cuts it (the first and last period of a from..to range, and
-- the period holding as_of).
--
-- Standard: hires per period, the throughput measure of recruiting
-- dashboards; no standard body defines it. Calendar weeks are ISO weeks
-- (Monday to Sunday).
--
-- Conventions: a hire is a standing hire at as_of (hired_applications),
-- dated by its first move into a hired stage; a hire moved to Do Not Pursue
-- or withdrawn by as_of is no hire. The range runs from from (else the
-- start of the period of the account's first hire) to the earlier of to and
-- as_of (else as_of), so recent periods with no hire show as 0. period_start and period_end
-- are the whole calendar period (the Monday or the first of the month, and
-- the last day); covered_from and covered_to the part of it in the range,
-- and partial is true when that part is shorter than the period: compare a
-- partial period's hires with care.
--
-- Time zone: hire dates and periods are calendar dates in the account's
-- time zone (accounts.timezone).
--
-- Grains: month (default), week; each with period_start, period_end,
-- covered_from, covered_to, partial, hires.
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the hire date); as_of (hires standing at the end of that day,
-- and the end of the range; default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
hires AS (
    SELECT h.account_id, h.hired_on
    FROM hired_applications((SELECT account FROM args), (SELECT as_of FROM args)) h
    JOIN params p ON p.account_id = h.account_id
    WHERE (p.from_date IS NULL OR h.hired_on >= p.from_date)
      AND (p.to_date IS NULL OR h.hired_on <= p.to_date)
),
bounds AS (
    -- Without from, the range starts with the period of the first hire,
    -- which is then whole.
    SELECT p.account_id, g.grain, g.step,
           coalesce(p.from_date, CAST(date_trunc(g.grain, (SELECT min(h.hired_on) FROM hires h
                                                           WHERE h.account_id = p.account_id)) AS DATE)) AS lo,
           least(p.to_date, p.as_of) AS hi
    FROM params p, (VALUES ('week', INTERVAL 7 DAY), ('month', INTERVAL 1 MONTH)) g(grain, step)
),
periods AS (
    SELECT b.account_id, b.lo, b.hi, b.grain,
           CAST(unnest(generate_series(date_trunc(b.grain, b.lo), date_trunc(b.grain, b.hi), b.step)) AS DATE) AS period_start
    FROM bounds b
    WHERE b.lo IS NOT NULL AND b.lo <= b.hi
),
counted AS (
    SELECT account_id, 'week' AS grain, CAST(date_trunc('week', hired_on) AS DATE) AS period_start, count(*) AS hires
    FROM hires GROUP BY ALL
    UNION ALL
    SELECT account_id, 'month', CAST(date_trunc('month', hired_on) AS DATE), count(*)
    FROM hires GROUP BY ALL
),
listed AS (
    SELECT pr.grain, pr.account_id, pr.period_start,
           CAST(CASE pr.grain WHEN 'week' THEN pr.period_start + INTERVAL 6 DAY
                ELSE pr.period_start + INTERVAL 1 MONTH - INTERVAL 1 DAY END AS DATE) AS period_end,
           pr.lo, pr.hi, coalesce(c.hires, 0) AS hires
    FROM periods pr
    LEFT JOIN counted c ON c.account_id = pr.account_id AND c.grain = pr.grain AND c.period_start = pr.period_start
),
marked AS (
    SELECT grain, account_id, period_start, period_end,
           greatest(period_start, lo) AS covered_from, least(period_end, hi) AS covered_to,
           greatest(period_start, lo) > period_start OR least(period_end, hi) < period_end AS partial,
           hires
    FROM listed
)
-- grain: month
SELECT account_id, period_start, period_end, covered_from, covered_to, partial, hires
FROM marked WHERE grain = 'month'
ORDER BY account_id, period_start;
-- grain: week
SELECT account_id, period_start, period_end, covered_from, covered_to, partial, hires
FROM marked WHERE grain = 'week'
ORDER BY account_id, period_start;
