-- name: source_of_hire
-- title: Source of hire
-- params: account, from, to, as_of
--
-- Definition: the hires made in the period (by hire date) per candidate
-- source: hires, share of the account's hires in the period, and median
-- days from application to hire.
--
-- Standard: source of hire as practitioners define it: hires from a source
-- / all hires, for hires made in the period. The attribution rule is the
-- application's own source field (last touch as ApplicantStack records it;
-- referred_by is not used). For the yield of a source on an application
-- cohort (applicants, interviews, hire rate of the applications received in
-- a period) use funnel_conversion at the source grain: that is where the
-- application cohort lives, so a hire is never counted in one period and
-- its application in another.
--
-- Conventions: a hire is a standing hire at as_of (hired_applications),
-- dated by its first move into a hired stage; a hire moved to Do Not Pursue
-- or withdrawn by as_of is no hire. Empty sources are NULL and listed as
-- such. Days to hire are days between the local application date
-- (applied_at, else first_seen_at) and hire date; the median is continuous.
--
-- Time zone: hire and application dates are calendar dates in the
-- account's time zone (accounts.timezone).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the hire date); as_of (hires standing at the end of that day;
-- default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
hires AS (
    SELECT h.account_id, h.source, date_diff('day', h.applied_on, h.hired_on) AS days
    FROM hired_applications((SELECT account FROM args), (SELECT as_of FROM args)) h
    JOIN params p ON p.account_id = h.account_id
    WHERE (p.from_date IS NULL OR h.hired_on >= p.from_date)
      AND (p.to_date IS NULL OR h.hired_on <= p.to_date)
),
by_source AS (
    SELECT account_id, source, count(*) AS hires, quantile_cont(days, 0.5) AS median_days_to_hire
    FROM hires
    GROUP BY account_id, source
)
SELECT account_id, source, hires,
       CAST(hires AS DOUBLE) / sum(hires) OVER (PARTITION BY account_id) AS share_of_hires,
       median_days_to_hire
FROM by_source
ORDER BY account_id, hires DESC, source NULLS LAST;
