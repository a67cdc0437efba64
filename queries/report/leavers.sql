-- name: leavers
-- title: Why candidates leave
-- params: account, from, to, as_of
--
-- Definition: applications that left the pipeline in the period and had
-- not come back by as_of: their stage at as_of is a rejected or withdrawn
-- one, entered in the period; per account, outcome (rejected, withdrawn)
-- and reason, the reject reason (disposition) or, without one, the stage
-- name. The report's "Why candidates leave"; not a published metric.
--
-- Conventions: the stage at as_of and when it was entered come from
-- application_states (shared/definitions.sql), as for offer_acceptance and
-- pipeline_snapshot. The reject reason is the application's current
-- disposition (ApplicantStack keeps no history of it).
--
-- Time zone: the day a stage was entered is a calendar date in the
-- account's time zone (accounts.timezone).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the day the application left); as_of (stages at the end of that
-- day; default today in the account's zone).
WITH args AS (
    -- The only place parameters appear.
    SELECT CAST($account AS VARCHAR) AS account, CAST($from AS DATE) AS from_date,
           CAST($to AS DATE) AS to_date, CAST($as_of AS DATE) AS as_of,
           coalesce(CAST($all_jobs AS BOOLEAN), false) AS all_jobs
),
params AS (
    FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                       (SELECT as_of FROM args), (SELECT all_jobs FROM args))
),
gone AS (
    SELECT s.account_id, s.funnel_stage AS outcome,
           coalesce(nullif(trim(s.disposition), ''), nullif(trim(s.stage), ''), '(none)') AS reason,
           local_date(s.entered_at, z) AS left_on, p.from_date, p.to_date
    FROM application_states((SELECT account FROM args), (SELECT as_of FROM args), NULL) s
    JOIN params p ON p.account_id = s.account_id
    LEFT JOIN time_zone_days z ON z.timezone = p.timezone AND z.local_date = utc_date(s.entered_at)
    WHERE s.funnel_stage IN ('rejected', 'withdrawn')
)
SELECT account_id, outcome, reason, count(*) AS applications
FROM gone
WHERE (from_date IS NULL OR left_on >= from_date) AND (to_date IS NULL OR left_on <= to_date)
GROUP BY account_id, outcome, reason
ORDER BY account_id, applications DESC, outcome, reason
