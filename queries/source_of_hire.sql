-- name: source_of_hire
-- title: Source of hire
-- params: account, from, to
--
-- Definition: per candidate source: applicants (applications), interviews
-- (applications that reached the interviewed stage), hires, share of all
-- hires (hires from the source / all hires of the account), hire rate
-- (hires / applicants) and median days to hire (applied -> hired).
--
-- Conventions: attribution is the application's own source field (last
-- touch as ApplicantStack records it; referred_by is not used); empty
-- sources are NULL. The cohort is applications by application date, so hire
-- rate stays within 0..1 and every hire is counted with its applicants.
-- Reaching a later stage counts as reaching the earlier ones (a hire counts
-- as an interview). Days to hire are calendar days between UTC dates, the
-- hire dated by its first hired stage event (else candidates.hired_at), the
-- application by applied_at (else first_seen_at).
-- Deleted applications are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates
-- on the application date).
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
hist AS (
    -- Only events from interviewed on matter here.
    SELECT e.account_id, e.candidate_id,
           max(CASE e.funnel_stage WHEN 'interviewed' THEN 3 WHEN 'offered' THEN 4 WHEN 'hired' THEN 5 END) AS max_rank,
           min(e.changed_at) FILTER (WHERE e.funnel_stage = 'hired') AS hired_at
    FROM stage_events e, params p
    WHERE e.funnel_stage IN ('interviewed', 'offered', 'hired')
      AND (p.account IS NULL OR e.account_id = p.account)
    GROUP BY ALL
),
apps AS (
    SELECT c.account_id, nullif(trim(c.source), '') AS source,
           greatest(coalesce(h.max_rank, 1),
                    CASE c.funnel_stage WHEN 'interviewed' THEN 3 WHEN 'offered' THEN 4
                         WHEN 'hired' THEN 5 ELSE 1 END) AS furthest,
           CAST(make_timestamp(epoch_us(coalesce(c.applied_at, c.first_seen_at))) AS DATE) AS applied_on,
           CAST(make_timestamp(epoch_us(coalesce(h.hired_at, c.hired_at))) AS DATE) AS hired_on
    FROM candidates c
    LEFT JOIN hist h USING (account_id, candidate_id), params p
    WHERE c.remote_deleted_at IS NULL
      AND (p.account IS NULL OR c.account_id = p.account)
),
by_source AS (
    SELECT a.account_id, a.source,
           count(*) AS applicants,
           count(*) FILTER (WHERE a.furthest >= 3) AS interviews,
           count(*) FILTER (WHERE a.furthest = 5) AS hires,
           quantile_cont(date_diff('day', a.applied_on, a.hired_on), 0.5)
               FILTER (WHERE a.furthest = 5) AS median_days_to_hire
    FROM apps a, params p
    WHERE (p.from_date IS NULL OR a.applied_on >= p.from_date)
      AND (p.to_date IS NULL OR a.applied_on <= p.to_date)
    GROUP BY a.account_id, a.source
)
SELECT account_id, source, applicants, interviews, hires,
       CAST(hires AS DOUBLE) / nullif(sum(hires) OVER (PARTITION BY account_id), 0) AS share_of_hires,
       CAST(hires AS DOUBLE) / nullif(applicants, 0) AS hire_rate,
       median_days_to_hire
FROM by_source
ORDER BY account_id, hires DESC, applicants DESC, source NULLS LAST;
