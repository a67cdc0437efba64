-- name: unmapped_stages
-- title: Unmapped stages
-- params: account, as_of
--
-- Definition: the account stage names no mapping rule turned into a funnel
-- stage (funnel_stage NULL), with the applications in that stage at as_of,
-- the stage changes into it up to as_of, and when it was first and last
-- entered. Add a mapping rule for each, then re-map.
--
-- Standard: none; a data-quality check. Every metric counts an unmapped
-- stage as no funnel stage (funnel_conversion: applied only; stage_duration
-- and pipeline_snapshot: funnel_stage NULL).
--
-- Conventions: the stage at as_of is the application's latest change by
-- then (application_states; with no history at all, its current stage);
-- applications deleted by as_of are left out; changes count the whole
-- stage history up to as_of. Blank stage names are not listed. Most
-- frequent first.
--
-- Time zone: first_seen_at and last_seen_at are instants (UTC); as_of ends
-- at midnight in the account's time zone (accounts.timezone).
--
-- Parameters: account (NULL = all accounts); as_of (default today in the
-- account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
in_stage AS (
    -- Applications whose stage at as_of is unmapped.
    SELECT s.account_id, s.stage
    FROM application_states((SELECT account FROM args), (SELECT as_of FROM args), 'unmapped') s
    WHERE s.funnel_stage IS NULL
),
found AS (
    SELECT account_id, stage, count(*) AS applications, 0 AS events,
           NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at
    FROM in_stage
    WHERE nullif(trim(stage), '') IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT e.account_id, e.stage, 0, count(*), min(e.changed_at), max(e.changed_at)
    FROM params p
    JOIN stage_events e ON e.account_id = p.account_id AND earlier(e.changed_at, p.as_of_end)
    WHERE e.funnel_stage IS NULL AND nullif(trim(e.stage), '') IS NOT NULL
    GROUP BY ALL
)
SELECT account_id, stage,
       CAST(sum(applications) AS BIGINT) AS applications,
       CAST(sum(events) AS BIGINT) AS events,
       min(first_at) AS first_seen_at,
       max(last_at) AS last_seen_at
FROM found
GROUP BY account_id, stage
ORDER BY sum(applications) + sum(events) DESC, account_id, stage;
