-- name: offer_acceptance
-- title: Offer acceptance
-- params: account, from, to
--
-- Definition: offers extended (applications that reached the offered
-- stage), accepted (reached offered and hired), declined (reached offered,
-- never hired, now rejected or withdrawn), pending (neither yet), the
-- acceptance rate accepted / (accepted + declined) and offers per
-- acceptance (accepted + declined) / accepted, by account and department.
--
-- Conventions: practitioners divide by all offers extended or by decided
-- offers; pending offers are left out of the rate here so a recent offer
-- does not read as a decline (offers counts them). Reaching hired implies an
-- accepted offer, even with no offered event (offer date = hire date). A
-- candidate hired after an earlier rejection counts as accepted. Offer date
-- = the first offered or hired stage event, else hired_at, else
-- last_changed_at, on its UTC date. Deleted applications are excluded.
--
-- Time zone: timestamps are stored in UTC and every date here is the UTC
-- calendar date, taken as CAST(make_timestamp(epoch_us(ts)) AS DATE), which
-- no session TimeZone setting can shift (an application at 23:30 in
-- California on March 2 is dated March 3).
--
-- Parameters: account (NULL = all accounts); from, to (inclusive UTC dates
-- on the offer date).
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
    SELECT e.account_id, e.candidate_id,
           bool_or(e.funnel_stage = 'hired') AS hired,
           min(e.changed_at) FILTER (WHERE e.funnel_stage IN ('offered', 'hired')) AS offered_at
    FROM stage_events e, params p
    WHERE e.funnel_stage IN ('offered', 'hired') AND (p.account IS NULL OR e.account_id = p.account)
    GROUP BY ALL
),
offers AS (
    SELECT c.account_id, nullif(trim(j.department), '') AS department,
           CASE WHEN coalesce(h.hired, false) OR c.funnel_stage = 'hired' THEN 'accepted'
                WHEN c.funnel_stage IN ('rejected', 'withdrawn') THEN 'declined'
                ELSE 'pending' END AS outcome
    FROM candidates c
    LEFT JOIN hist h USING (account_id, candidate_id)
    LEFT JOIN jobs j ON j.account_id = c.account_id AND j.job_id = c.job_id,
    params p
    WHERE c.remote_deleted_at IS NULL
      AND (p.account IS NULL OR c.account_id = p.account)
      AND (h.offered_at IS NOT NULL OR c.funnel_stage IN ('offered', 'hired'))
      AND (p.from_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(h.offered_at, c.hired_at, c.last_changed_at))) AS DATE) >= p.from_date)
      AND (p.to_date IS NULL OR CAST(make_timestamp(epoch_us(coalesce(h.offered_at, c.hired_at, c.last_changed_at))) AS DATE) <= p.to_date)
)
SELECT CASE WHEN grouping(department) = 0 THEN 'department' ELSE 'account' END AS grain,
       account_id, department,
       count(*) AS offers,
       count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
       count(*) FILTER (WHERE outcome = 'declined') AS declined,
       count(*) FILTER (WHERE outcome = 'pending') AS pending,
       CAST(count(*) FILTER (WHERE outcome = 'accepted') AS DOUBLE)
           / nullif(count(*) FILTER (WHERE outcome <> 'pending'), 0) AS acceptance_rate,
       CAST(count(*) FILTER (WHERE outcome <> 'pending') AS DOUBLE)
           / nullif(count(*) FILTER (WHERE outcome = 'accepted'), 0) AS offers_per_acceptance
FROM offers
GROUP BY GROUPING SETS ((account_id), (account_id, department))
ORDER BY account_id, grain, department NULLS LAST;
