-- name: offer_acceptance
-- title: Offer acceptance
-- params: account, from, to, as_of
--
-- Definition: offers extended in the period (applications that reached the
-- offered or hired stage, by offer date) and their outcome at as_of:
-- accepted (a standing hire), declined by the candidate, rescinded or
-- rejected by the employer, or pending; the acceptance rate accepted /
-- offers extended, the candidate acceptance rate accepted / (accepted +
-- declined), and offers extended per acceptance; by account and department.
--
-- Standard: SHRM's offer acceptance rate, offers accepted / offers
-- extended, is acceptance_rate. candidate_acceptance_rate departs from it
-- on purpose: it leaves out offers still pending and offers the employer
-- withdrew, so it answers "when our candidates decide, how often do they
-- say yes".
--
-- Conventions: the offer date is the first move into an offered or hired
-- stage (reaching hired implies an accepted offer, even with no offered
-- stage). The outcome is read from the stage at as_of (application_states):
-- a standing hire is accepted; withdrawn, or rejected with a candidate-side
-- stage name or reject reason (candidate_declined: declined, withdrew, no
-- show, reneged), is declined; any other rejection (Position Filled, Not
-- Qualified, Failed Background Check, ...) is rescinded, the employer's
-- decision, including a hire later moved to Do Not Pursue; anything else is
-- pending. A candidate hired after an earlier rejection is accepted. The
-- reject reason is the application's current disposition (ApplicantStack
-- keeps no history of it). Rates are NULL when their denominator is 0.
-- Departments come from the application's job; empty ones are NULL.
--
-- Time zone: offer dates are calendar dates in the account's time zone
-- (accounts.timezone).
--
-- Grains: account (default), department; each with offers, accepted,
-- declined, rescinded, pending, acceptance_rate, candidate_acceptance_rate,
-- offers_per_acceptance.
--
-- Parameters: account (NULL = all accounts); from, to (inclusive local
-- dates on the offer date); as_of (outcomes as of the end of that day;
-- default today in the account's zone).
-- args: the parameters, typed (the only place they appear); params: one row
-- per account the metric covers, with its time zone and the dates as local
-- dates and instants (metric_args, metric_params: shared/definitions.sql).
WITH args AS (FROM metric_args($account, $from, $to, $as_of, $all_jobs)),
params AS (FROM metric_params((SELECT account FROM args), (SELECT from_date FROM args), (SELECT to_date FROM args),
                              (SELECT as_of FROM args), (SELECT all_jobs FROM args))),
offers AS (
    SELECT s.account_id, j.department,
           CASE WHEN s.hired_at IS NOT NULL THEN 'accepted'
                WHEN s.funnel_stage = 'withdrawn'
                  OR (s.funnel_stage = 'rejected' AND candidate_declined(s.stage, s.disposition)) THEN 'declined'
                WHEN s.funnel_stage = 'rejected' THEN 'rescinded'
                ELSE 'pending' END AS outcome,
           local_date(s.offered_at, z) AS offered_on, p.from_date, p.to_date
    FROM application_states((SELECT account FROM args), (SELECT as_of FROM args), 'offered') s
    JOIN params p ON p.account_id = s.account_id
    LEFT JOIN job_openings j ON j.account_id = s.account_id AND j.job_id = s.job_id
    LEFT JOIN time_zone_days z ON z.timezone = p.timezone AND z.local_date = utc_date(s.offered_at)
    WHERE s.offered_at IS NOT NULL
),
counted AS (
    SELECT CASE WHEN grouping(department) = 0 THEN 'department' ELSE 'account' END AS grain,
           account_id, department,
           count(*) AS offers,
           count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
           count(*) FILTER (WHERE outcome = 'declined') AS declined,
           count(*) FILTER (WHERE outcome = 'rescinded') AS rescinded,
           count(*) FILTER (WHERE outcome = 'pending') AS pending
    FROM offers
    WHERE (from_date IS NULL OR offered_on >= from_date) AND (to_date IS NULL OR offered_on <= to_date)
    GROUP BY GROUPING SETS ((account_id), (account_id, department))
),
rated AS (
    SELECT *,
           CAST(accepted AS DOUBLE) / nullif(offers, 0) AS acceptance_rate,
           CAST(accepted AS DOUBLE) / nullif(accepted + declined, 0) AS candidate_acceptance_rate,
           CAST(offers AS DOUBLE) / nullif(accepted, 0) AS offers_per_acceptance
    FROM counted
)
-- grain: account
SELECT account_id, offers, accepted, declined, rescinded, pending,
       acceptance_rate, candidate_acceptance_rate, offers_per_acceptance
FROM rated WHERE grain = 'account'
ORDER BY account_id;
-- grain: department
SELECT account_id, department, offers, accepted, declined, rescinded, pending,
       acceptance_rate, candidate_acceptance_rate, offers_per_acceptance
FROM rated WHERE grain = 'department'
ORDER BY account_id, department NULLS LAST;
