-- name: unmapped_stages
-- title: Unmapped stages
-- params: account
--
-- Definition: the account stage names no mapping rule turned into a funnel
-- stage (funnel_stage NULL), with the applications currently in that stage,
-- the stage events that carry it, and when it was first and last seen in
-- the stage history. Add a mapping rule for each, then re-map.
--
-- Conventions: current applications exclude deleted ones; events count the
-- whole stage history; blank stage names are not listed. Most frequent first.
--
-- Parameters: account (NULL = all accounts).
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
found AS (
    SELECT c.account_id, c.stage, count(*) AS applications, 0 AS events,
           NULL::TIMESTAMPTZ AS first_at, NULL::TIMESTAMPTZ AS last_at
    FROM candidates c, params p
    WHERE c.funnel_stage IS NULL AND nullif(trim(c.stage), '') IS NOT NULL
      AND c.remote_deleted_at IS NULL AND (p.account IS NULL OR c.account_id = p.account)
    GROUP BY ALL
    UNION ALL
    SELECT e.account_id, e.stage, 0, count(*), min(e.changed_at), max(e.changed_at)
    FROM stage_events e, params p
    WHERE e.funnel_stage IS NULL AND nullif(trim(e.stage), '') IS NOT NULL
      AND (p.account IS NULL OR e.account_id = p.account)
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
