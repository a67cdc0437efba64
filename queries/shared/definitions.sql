-- Shared definitions of the canned metrics: macros and views every metric
-- file builds on, so that a hire, a job open at a date, an application's
-- stage at a date and a local calendar date mean the same thing in every
-- metric and in the metric_* views. CreateViews creates them (before the
-- metric views) in the live database; Publish copies them, with the views,
-- into the read-only copy. BI users may use them too.
--
-- Time: timestamps are stored in UTC. Every calendar date is a date in the
-- account's time zone (accounts.timezone; UTC for an account the warehouse
-- has no row for), read through time_zone_days rather than ICU, which is
-- fast enough for a few dates but not for millions. "As of" a date d means
-- up to the end of d in the account's zone: an instant counts when it is
-- before ends_at of d.

-- utc_date(ts): the UTC calendar date of an instant, whatever the session's
-- TimeZone setting.
CREATE OR REPLACE MACRO utc_date(ts) AS CAST(make_timestamp(epoch_us(ts)) AS DATE);

-- utc_midnight(d): the instant date d starts in UTC.
CREATE OR REPLACE MACRO utc_midnight(d) AS make_timestamptz(epoch_us(CAST(d AS TIMESTAMP)));

-- local_date(ts, z): the calendar date of instant ts in an account's zone,
-- where z is the time_zone_days row of that zone whose local_date is the
-- UTC date of ts, joined by the caller:
--   LEFT JOIN time_zone_days z ON z.timezone = <zone> AND z.local_date = utc_date(ts)
-- A zone is at most 14 hours from UTC, so the local date is that date, the
-- day before or the day after. With no row (no configured zone, or a date
-- outside 1990-2099) it is the UTC date.
CREATE OR REPLACE MACRO local_date(ts, z) AS coalesce(
    CASE WHEN ts < z.starts_at THEN z.local_date - 1
         WHEN ts >= z.ends_at THEN z.local_date + 1
         ELSE z.local_date END,
    utc_date(ts));

-- funnel_rank(funnel_stage): the funnel order, 1 applied .. 5 hired, 6
-- rejected, 7 withdrawn, 0 unmapped. At one instant the higher rank is the
-- later change.
CREATE OR REPLACE MACRO funnel_rank(f) AS
    CASE f WHEN 'applied' THEN 1 WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3 WHEN 'offered' THEN 4
           WHEN 'hired' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7 ELSE 0 END;

-- live_at(deleted_at, as_of_end): a record exists at as_of unless it was
-- deleted (remote_deleted_at) by then.
CREATE OR REPLACE MACRO live_at(deleted_at, as_of_end) AS deleted_at IS NULL OR deleted_at >= as_of_end;

-- candidate_declined(stage, disposition): a rejected or withdrawn
-- application left on the candidate's side: a stage or reject reason saying
-- declined, withdrew, no show or reneged ("Offer Declined", "Candidate
-- Withdrew", "No Show"). Anything else in a rejected stage ("Position
-- Filled", "Not Qualified", "Failed Background Check") is the employer's.
CREATE OR REPLACE MACRO candidate_declined(stage, disposition) AS
    regexp_matches(lower(coalesce(stage, '') || ' ' || coalesce(disposition, '')),
                   'declin|withdr|no[ -]?show|reneg');

-- account_zones: every account the warehouse knows, with its zone: the
-- accounts table (from the configuration), else UTC for an account seen only
-- in jobs or sync_runs.
CREATE OR REPLACE VIEW account_zones AS
SELECT account_id, timezone FROM accounts
UNION ALL
SELECT account_id, 'UTC' FROM (SELECT account_id FROM jobs UNION SELECT account_id FROM sync_runs)
WHERE account_id NOT IN (SELECT account_id FROM accounts);

-- metric_params(account, from, to, as_of, all_jobs): one row per account a
-- metric covers (all accounts when account is NULL) with its zone and the
-- parameters as local dates and as instants:
--   as_of      the date (default: today in the account's zone)
--   as_of_end  the first instant after as_of: anything at or after it is ignored
--   from_date, to_date, from_start, to_end: the period (NULL = open), its
--              first instant and the first instant after it
--   period_end the earlier of to_end and as_of_end
--   all_jobs   pipeline_snapshot's switch (false when NULL)
CREATE OR REPLACE MACRO metric_params(p_account, p_from, p_to, p_as_of, p_all_jobs) AS TABLE
WITH a AS (
    SELECT z.account_id, z.timezone, coalesce(p_as_of, local_date(now(), t)) AS as_of
    FROM account_zones z
    LEFT JOIN time_zone_days t ON t.timezone = z.timezone AND t.local_date = utc_date(now())
    WHERE p_account IS NULL OR z.account_id = p_account
)
SELECT a.account_id, a.timezone, a.as_of,
       coalesce(e.ends_at, utc_midnight(a.as_of + 1)) AS as_of_end,
       p_from AS from_date, p_to AS to_date,
       coalesce(f.starts_at, utc_midnight(p_from)) AS from_start,
       coalesce(u.ends_at, utc_midnight(p_to + 1)) AS to_end,
       least(coalesce(u.ends_at, utc_midnight(p_to + 1)), coalesce(e.ends_at, utc_midnight(a.as_of + 1))) AS period_end,
       coalesce(p_all_jobs, false) AS all_jobs
FROM a
LEFT JOIN time_zone_days e ON e.timezone = a.timezone AND e.local_date = a.as_of
LEFT JOIN time_zone_days f ON f.timezone = a.timezone AND f.local_date = p_from
LEFT JOIN time_zone_days u ON u.timezone = a.timezone AND u.local_date = p_to;

-- job_openings: every job (deleted ones too, with remote_deleted_at) with
-- the local dates that say when it was open:
--   opened_on   opened_at (Campaign Start Date), else remote_created_at;
--               NULL when neither is known: such a job is never open
--   open_until  the date it stopped being open, for a job now on hold,
--               filled or closed: its last modification (remote_updated_at,
--               else last_seen_at), since ApplicantStack keeps no history of
--               job statuses and the status change is the last change known;
--               NULL while the job is open (or its status is unknown)
-- A job is open on day d when opened_on <= d < open_until (job_state). Hires
-- do not close a job: only its status does, so a requisition that hires
-- many (CNA, PRN, per diem, evergreen) stays open through its hires.
CREATE OR REPLACE VIEW job_openings AS
SELECT j.account_id, j.job_id, j.name AS job_name,
       nullif(trim(j.department), '') AS department, nullif(trim(j.location), '') AS location,
       j.status,
       local_date(coalesce(j.opened_at, j.remote_created_at), o) AS opened_on,
       CASE WHEN j.status IN ('on_hold', 'filled', 'closed')
            THEN local_date(coalesce(j.remote_updated_at, j.last_seen_at), s) END AS open_until,
       j.remote_deleted_at
FROM jobs j
JOIN account_zones z ON z.account_id = j.account_id
LEFT JOIN time_zone_days o ON o.timezone = z.timezone AND o.local_date = utc_date(coalesce(j.opened_at, j.remote_created_at))
LEFT JOIN time_zone_days s ON s.timezone = z.timezone AND s.local_date = utc_date(coalesce(j.remote_updated_at, j.last_seen_at));

-- job_state(opened_on, open_until, status, d): a job_openings row's state on
-- day d: NULL before it opened (or with no opening date), 'open' from
-- opened_on until open_until, then its status: 'on_hold' (not open, but
-- listed as on hold), 'filled' or 'closed'. The one definition of "open at
-- as_of" every metric uses.
CREATE OR REPLACE MACRO job_state(opened_on, open_until, status, d) AS
    CASE WHEN opened_on IS NULL OR opened_on > d THEN NULL
         WHEN open_until IS NULL OR d < open_until THEN 'open'
         ELSE status END;

-- job_open_between(opened_on, open_until, a, b): the job was open on some
-- day from a to b (NULL a or b: unbounded).
CREATE OR REPLACE MACRO job_open_between(opened_on, open_until, a, b) AS
    opened_on IS NOT NULL AND (b IS NULL OR opened_on <= b)
    AND (open_until IS NULL OR (open_until > opened_on AND (a IS NULL OR open_until > a)));

-- hire_standing(hired_at, last_k, as_of_end): whether an application hired
-- at hired_at is a hire standing at as_of, given last_k, the change_key of
-- its latest stage change before as_of_end (NULL: none). It is when it was
-- hired before as_of_end and not moved out of hiring by then: a hire whose
-- stage at as_of is rejected or withdrawn (a rescinded offer, a no-show, a
-- hire moved to Do Not Pursue) is no hire from that move on, anywhere: it
-- fills no job and counts in no hire total. A hire moved back into a hired
-- stage stands again, dated by its first hire.
CREATE OR REPLACE MACRO hire_standing(hired_at, last_k, as_of_end) AS
    hired_at < as_of_end AND coalesce(last_k % 8 NOT IN (6, 7), true);

-- change_key(changed_at, funnel_stage): orders stage changes: the instant in
-- microseconds * 8 + the funnel rank, so the largest key is the latest
-- change and, at one instant, the later funnel stage. key_funnel_stage(k)
-- and key_instant(k) read it back.
CREATE OR REPLACE MACRO change_key(changed_at, funnel_stage) AS epoch_us(changed_at) * 8 + funnel_rank(funnel_stage);
CREATE OR REPLACE MACRO key_funnel_stage(k) AS
    ['applied', 'screened', 'interviewed', 'offered', 'hired', 'rejected', 'withdrawn'][k % 8];
CREATE OR REPLACE MACRO key_instant(k) AS make_timestamptz(k // 8);

-- hired_applications(account, as_of): the hires standing at as_of
-- (hire_standing) of the account (NULL = all accounts), one row per
-- application that exists at as_of (applied by then, applied_at else
-- first_seen_at, and not deleted by then):
--   hired_at    its first move into a hired stage (candidates.hired_at); an
--               application with no stage history at all that is hired now
--               is hired since it applied
--   applied_at, and applied_on and hired_on as local dates
CREATE OR REPLACE MACRO hired_applications(p_account, p_as_of) AS TABLE
WITH p AS (
    FROM metric_params(p_account, NULL, NULL, p_as_of, NULL)
),
hired AS (
    SELECT c.account_id, c.candidate_id, c.job_id, nullif(trim(c.source), '') AS source,
           coalesce(c.applied_at, c.first_seen_at) AS applied_at,
           coalesce(c.hired_at, coalesce(c.applied_at, c.first_seen_at)) AS hired_at,
           c.hired_at IS NULL AS undated, p.as_of_end, p.timezone
    FROM p
    JOIN candidates c ON c.account_id = p.account_id
     AND (c.hired_at IS NOT NULL OR c.funnel_stage = 'hired')
     AND live_at(c.remote_deleted_at, p.as_of_end)
     AND coalesce(c.applied_at, c.first_seen_at) < p.as_of_end
),
last_change AS (
    SELECT e.account_id, e.candidate_id, count(*) AS events,
           max(change_key(e.changed_at, e.funnel_stage)) FILTER (WHERE e.changed_at < h.as_of_end) AS k
    FROM hired h
    JOIN stage_events e ON e.account_id = h.account_id AND e.candidate_id = h.candidate_id
    GROUP BY e.account_id, e.candidate_id
)
SELECT h.account_id, h.candidate_id, h.job_id, h.source, h.applied_at, h.hired_at,
       local_date(h.applied_at, za) AS applied_on,
       local_date(h.hired_at, zh) AS hired_on
FROM hired h
LEFT JOIN last_change l ON l.account_id = h.account_id AND l.candidate_id = h.candidate_id
LEFT JOIN time_zone_days za ON za.timezone = h.timezone AND za.local_date = utc_date(h.applied_at)
LEFT JOIN time_zone_days zh ON zh.timezone = h.timezone AND zh.local_date = utc_date(h.hired_at)
WHERE CASE WHEN h.undated THEN l.events IS NULL AND h.hired_at < h.as_of_end
           ELSE hire_standing(h.hired_at, l.k, h.as_of_end) END;

-- application_states(account, as_of, only): every application of the
-- account (NULL = all accounts) that exists at as_of (applied by then,
-- applied_at else first_seen_at, and not deleted by then), with its stage
-- history read up to as_of. only narrows the work to the applications a
-- metric can use, with the same answer for them: NULL = all, 'offered' =
-- those with an offered or hired change by as_of or such a current stage,
-- 'unmapped' = those with an unmapped change by as_of or such a current
-- stage (a superset of the ones in such a stage at as_of). Columns:
--   funnel_stage  its funnel stage at as_of: that of its latest change by
--                 then (change_key order); 'applied' when its history starts
--                 after as_of; with no history at all, its current stage
--   entered_at    when it made that change (no history: when it applied)
--   last_k        the change_key of that change (NULL: none); the change's
--                 stage name is that of the stage_events row with this key
--   current_stage with no history at all, the current stage name, else NULL
--   reached       the furthest of applied (1) .. hired (5) reached by then;
--                 a hire that does not stand (hire_standing) counts as
--                 reaching offered
--   offered_at    its first move into an offered or hired stage
--   hired_at      its hire, when standing at as_of
--   job_id, source, disposition, applied_at
-- Instants only: a metric takes the local dates it needs (local_date), on
-- the rows it keeps. With no stage history at all, an application is in
-- its current stage since it applied. One pass over the stage history and
-- the applications together, then one join of the per-application result
-- back to candidates (by name: views over Parquet have no rowid).
CREATE OR REPLACE MACRO application_states(p_account, p_as_of, p_only) AS TABLE
WITH p AS (
    FROM metric_params(p_account, NULL, NULL, p_as_of, NULL)
),
focus AS (
    SELECT e.account_id, e.candidate_id
    FROM p JOIN stage_events e ON e.account_id = p.account_id AND e.changed_at < p.as_of_end
    WHERE (p_only = 'offered' AND e.funnel_stage IN ('offered', 'hired')) OR (p_only = 'unmapped' AND e.funnel_stage IS NULL)
    UNION
    SELECT c.account_id, c.candidate_id
    FROM p JOIN candidates c ON c.account_id = p.account_id
    WHERE (p_only = 'offered' AND c.funnel_stage IN ('offered', 'hired')) OR (p_only = 'unmapped' AND c.funnel_stage IS NULL)
),
x AS (
    -- r = -1 marks the application's own row.
    SELECT e.account_id, e.candidate_id, change_key(e.changed_at, e.funnel_stage) AS k,
           funnel_rank(e.funnel_stage) AS r, e.changed_at, p.as_of_end
    FROM p JOIN stage_events e ON e.account_id = p.account_id
    WHERE p_only IS NULL
       OR EXISTS (SELECT 1 FROM focus f WHERE f.account_id = e.account_id AND f.candidate_id = e.candidate_id)
    UNION ALL
    SELECT c.account_id, c.candidate_id, NULL, -1, NULL, p.as_of_end
    FROM p JOIN candidates c ON c.account_id = p.account_id
    WHERE p_only IS NULL
       OR EXISTS (SELECT 1 FROM focus f WHERE f.account_id = c.account_id AND f.candidate_id = c.candidate_id)
),
agg AS (
    SELECT account_id, candidate_id, any_value(as_of_end) AS as_of_end,
           count(*) FILTER (WHERE r >= 0) AS events,
           max(k) FILTER (WHERE r >= 0 AND changed_at < as_of_end) AS last_k,
           max(r) FILTER (WHERE r BETWEEN 1 AND 5 AND changed_at < as_of_end) AS reached,
           min(changed_at) FILTER (WHERE r IN (4, 5) AND changed_at < as_of_end) AS offered_at
    FROM x
    GROUP BY account_id, candidate_id
),
apps AS (
    SELECT a.account_id, a.candidate_id, c.job_id, nullif(trim(c.source), '') AS source, c.disposition,
           coalesce(c.applied_at, c.first_seen_at) AS applied_at, a.events = 0 AS no_history,
           c.stage AS current_stage, c.funnel_stage AS current_funnel, c.hired_at AS first_hired_at,
           a.as_of_end, a.last_k, a.reached, a.offered_at
    FROM agg a
    -- By the names, not rowid: views over Parquet (the lake) have none.
    JOIN candidates c ON c.account_id = a.account_id AND c.candidate_id = a.candidate_id
    WHERE live_at(c.remote_deleted_at, a.as_of_end)
      AND coalesce(c.applied_at, c.first_seen_at) < a.as_of_end
),
shaped AS (
    SELECT s.*,
           CASE WHEN s.no_history THEN s.current_funnel
                WHEN s.last_k IS NULL THEN 'applied'
                ELSE key_funnel_stage(s.last_k) END AS funnel_stage,
           CASE WHEN s.last_k IS NULL THEN s.applied_at ELSE key_instant(s.last_k) END AS entered_at,
           CASE WHEN NOT s.no_history THEN s.first_hired_at
                WHEN s.current_funnel = 'hired' THEN s.applied_at END AS hire_at,
           CASE WHEN NOT s.no_history THEN coalesce(s.reached, 1)
                WHEN funnel_rank(s.current_funnel) BETWEEN 1 AND 5 THEN funnel_rank(s.current_funnel)
                ELSE 1 END AS reached_any
    FROM apps s
)
SELECT s.account_id, s.candidate_id, s.job_id, s.source, s.disposition, s.funnel_stage, s.entered_at, s.last_k,
       CASE WHEN s.no_history THEN s.current_stage END AS current_stage,
       CASE WHEN s.reached_any = 5 AND NOT hire_standing(s.hire_at, s.last_k, s.as_of_end) THEN 4 ELSE s.reached_any END AS reached,
       CASE WHEN s.no_history THEN CASE WHEN s.current_funnel IN ('offered', 'hired') THEN s.applied_at END
            ELSE s.offered_at END AS offered_at,
       CASE WHEN hire_standing(s.hire_at, s.last_k, s.as_of_end) THEN s.hire_at END AS hired_at,
       s.applied_at
FROM shaped s;
