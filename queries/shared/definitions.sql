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

-- earlier(a, b): instant a is before instant b. Written so that DuckDB's
-- planner does not take it for a join condition: it estimates a join on an
-- inequality with the few rows of metric_params at a handful of rows, and
-- then builds its hash tables on millions of stage changes.
CREATE OR REPLACE MACRO earlier(a, b) AS epoch_us(a) - epoch_us(b) < 0;

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

-- binned_quantile(v, first_pos, total, q): an aggregate over the bins of one
-- group of sorted values, each bin a value v held first_pos .. first_pos+n-1
-- of the group's total values: their quantile_cont(q), as a DOUBLE. It
-- interpolates between the values at positions floor and ceil of
-- (total - 1) * q, reading a few bins instead of every value.
CREATE OR REPLACE MACRO binned_quantile(v, first_pos, total, q) AS
    CAST(max(v) FILTER (WHERE first_pos <= floor((total - 1) * q))
         + any_value((total - 1) * q - floor((total - 1) * q))
           * (max(v) FILTER (WHERE first_pos <= ceil((total - 1) * q))
              - max(v) FILTER (WHERE first_pos <= floor((total - 1) * q))) AS DOUBLE);

-- account_zones: every account the warehouse knows, with its zone: the
-- accounts table (from the configuration), else UTC for an account seen only
-- in jobs or sync_runs.
CREATE OR REPLACE VIEW account_zones AS
SELECT account_id, timezone FROM accounts
UNION ALL
SELECT account_id, 'UTC' FROM (SELECT account_id FROM jobs UNION SELECT account_id FROM sync_runs)
WHERE account_id NOT IN (SELECT account_id FROM accounts);

-- metric_args(account, from, to, as_of, all_jobs): a metric's parameters as
-- one typed row: account, from_date, to_date, as_of (DATE) and all_jobs
-- (false when NULL). Every metric binds its named parameters through it, in
-- its args CTE, and nowhere else.
CREATE OR REPLACE MACRO metric_args(p_account, p_from, p_to, p_as_of, p_all_jobs) AS TABLE
SELECT CAST(p_account AS VARCHAR) AS account, CAST(p_from AS DATE) AS from_date,
       CAST(p_to AS DATE) AS to_date, CAST(p_as_of AS DATE) AS as_of,
       coalesce(CAST(p_all_jobs AS BOOLEAN), false) AS all_jobs;

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
SELECT a.account_id, any_value(a.timezone) AS timezone, any_value(a.as_of) AS as_of,
       any_value(coalesce(e.ends_at, utc_midnight(a.as_of + 1))) AS as_of_end,
       any_value(p_from) AS from_date, any_value(p_to) AS to_date,
       any_value(coalesce(f.starts_at, utc_midnight(p_from))) AS from_start,
       any_value(coalesce(u.ends_at, utc_midnight(p_to + 1))) AS to_end,
       any_value(least(coalesce(u.ends_at, utc_midnight(p_to + 1)), coalesce(e.ends_at, utc_midnight(a.as_of + 1)))) AS period_end,
       any_value(coalesce(p_all_jobs, false)) AS all_jobs
FROM a
LEFT JOIN time_zone_days e ON e.timezone = a.timezone AND e.local_date = a.as_of
LEFT JOIN time_zone_days f ON f.timezone = a.timezone AND f.local_date = p_from
LEFT JOIN time_zone_days u ON u.timezone = a.timezone AND u.local_date = p_to
-- One row per account already; grouping tells the planner so (its
-- estimate of the joins above is far too large, which misplans the joins
-- metrics make with these rows).
GROUP BY a.account_id;

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

-- jobs_at(account, as_of): the jobs of the account (NULL = all accounts)
-- that exist at as_of (not deleted by then), with their state at as_of
-- (job_state: NULL before they opened) and the account's as_of, as_of_end
-- and timezone (metric_params).
CREATE OR REPLACE MACRO jobs_at(p_account, p_as_of) AS TABLE
SELECT o.account_id, o.job_id, o.job_name, o.department, o.location, o.status, o.opened_on, o.open_until,
       job_state(o.opened_on, o.open_until, o.status, p.as_of) AS state,
       p.as_of, p.as_of_end, p.timezone
FROM metric_params(p_account, NULL, NULL, p_as_of, NULL) p
JOIN job_openings o ON o.account_id = p.account_id
WHERE live_at(o.remote_deleted_at, p.as_of_end);

-- job_open_between(opened_on, open_until, a, b): the job was open on some
-- day from a to b (NULL a or b: unbounded).
CREATE OR REPLACE MACRO job_open_between(opened_on, open_until, a, b) AS
    opened_on IS NOT NULL AND (b IS NULL OR opened_on <= b)
    AND (open_until IS NULL OR (open_until > opened_on AND (a IS NULL OR open_until > a)));

-- hire_standing(hired_at, last_k, as_of_end): whether an application hired
-- at hired_at is a hire standing at as_of, given last_k, the change_key of
-- its latest stage change before as_of_end (NULL: none). It is when it was
-- hired before as_of_end and its stage at as_of is not a rejected or
-- withdrawn one: a hire moved to Do Not Pursue or withdrawn (a rescinded
-- offer, a no-show) is no hire from that move on, anywhere: it fills no job
-- and counts in no hire total. A hire moved back into a hired stage stands
-- again, dated by its first hire.
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

-- standing_hires(account, as_of): the hires standing at as_of
-- (hire_standing) of the account (NULL = all accounts), one row per
-- application that exists at as_of (applied by then, applied_at else
-- first_seen_at, and not deleted by then):
--   hired_at    its first move into a hired stage (candidates.hired_at); an
--               application with no stage history at all that is hired now
--               is hired since it applied
--   job_id, source, applied_at, and timezone, the account's zone
-- candidates.rejected_at (the first move into a rejected or withdrawn stage)
-- spares reading the history of hires never rejected by as_of: only the
-- others can have left hiring.
CREATE OR REPLACE MACRO standing_hires(p_account, p_as_of) AS TABLE
WITH p AS (
    FROM metric_params(p_account, NULL, NULL, p_as_of, NULL)
),
hired AS (
    SELECT c.account_id, c.candidate_id, c.job_id, nullif(trim(c.source), '') AS source,
           coalesce(c.applied_at, c.first_seen_at) AS applied_at,
           coalesce(c.hired_at, coalesce(c.applied_at, c.first_seen_at)) AS hired_at,
           c.hired_at IS NULL AS undated, c.rejected_at < p.as_of_end AS rejected, p.as_of_end, p.timezone
    FROM p
    JOIN candidates c ON c.account_id = p.account_id
     AND (c.hired_at IS NOT NULL OR c.funnel_stage = 'hired')
     AND live_at(c.remote_deleted_at, p.as_of_end)
     AND earlier(coalesce(c.applied_at, c.first_seen_at), p.as_of_end)
),
suspects AS (
    -- The hires that may have left hiring by as_of, and the undated ones.
    SELECT account_id, candidate_id FROM hired WHERE rejected OR undated
),
last_change AS (
    -- Their latest change by as_of, and whether an undated one has any
    -- history. The semi join reads their history, not everyone's.
    SELECT e.account_id, e.candidate_id, count(*) AS events,
           max(change_key(e.changed_at, e.funnel_stage)) FILTER (WHERE e.changed_at < p.as_of_end) AS k
    FROM (FROM stage_events e SEMI JOIN suspects s ON s.account_id = e.account_id AND s.candidate_id = e.candidate_id) e
    JOIN p ON p.account_id = e.account_id
    GROUP BY e.account_id, e.candidate_id
)
SELECT h.account_id, h.candidate_id, h.job_id, h.source, h.applied_at, h.hired_at, h.timezone
FROM hired h
LEFT JOIN last_change l ON l.account_id = h.account_id AND l.candidate_id = h.candidate_id
WHERE h.hired_at < h.as_of_end
  AND CASE WHEN h.undated THEN l.events IS NULL
           WHEN h.rejected THEN hire_standing(h.hired_at, l.k, h.as_of_end)
           ELSE true END;

-- hired_applications(account, as_of): standing_hires with their local
-- application and hire dates (applied_on, hired_on).
CREATE OR REPLACE MACRO hired_applications(p_account, p_as_of) AS TABLE
SELECT h.account_id, h.candidate_id, h.job_id, h.source, h.applied_at, h.hired_at,
       local_date(h.applied_at, za) AS applied_on,
       local_date(h.hired_at, zh) AS hired_on
FROM standing_hires(p_account, p_as_of) h
LEFT JOIN time_zone_days za ON za.timezone = h.timezone AND za.local_date = utc_date(h.applied_at)
LEFT JOIN time_zone_days zh ON zh.timezone = h.timezone AND zh.local_date = utc_date(h.hired_at);

-- application_states(account, as_of, only): every application of the
-- account (NULL = all accounts) that exists at as_of (applied by then,
-- applied_at else first_seen_at, and not deleted by then), with its stage
-- history read up to as_of. only narrows the work to the applications a
-- metric can use, with the same answer for them: NULL = all; 'offered' =
-- those with an offered or hired change by as_of or such a current stage;
-- 'unmapped' = those with an unmapped change by as_of or such a current
-- stage; 'open_jobs' = those applied to a job open at as_of (job_state).
-- Columns:
--   stage, funnel_stage  the stage at as_of: its latest change by then
--                 (change_key order; two changes at one instant in one
--                 funnel stage: either name); 'applied' (stage
--                 NULL) when its history starts after as_of; with no history
--                 at all, its current stage
--   entered_at    when it made that change (no history: when it applied)
--   last_k        the change_key of that change (NULL: none)
--   offered_at    its first move into an offered or hired stage (an offer
--                 extended); with no history, when it applied if it is now
--                 offered or hired
--   hired_at      its hire (candidates.hired_at) if standing at as_of
--                 (hire_standing)
--   job_id, source, disposition (the current reject reason), applied_at
-- Instants only: a metric takes the local dates it needs (local_date), on
-- the rows it keeps. One pass over the stage history and the applications
-- together, not a join of the two on their text keys.
CREATE OR REPLACE MACRO application_states(p_account, p_as_of, p_only) AS TABLE
WITH p AS (
    FROM metric_params(p_account, NULL, NULL, p_as_of, NULL)
),
-- Each branch below joins the big tables to one of these, empty unless the
-- branch applies, and DuckDB skips a join whose hash table is empty: only
-- the branches p_only asks for read anything.
p_all AS (SELECT * FROM p WHERE p_only IS NULL),
p_offered AS (SELECT * FROM p WHERE p_only = 'offered'),
p_unmapped AS (SELECT * FROM p WHERE p_only = 'unmapped'),
p_open_jobs AS (SELECT * FROM p WHERE p_only = 'open_jobs'),
focus AS (
    -- Grouped, which also tells the planner how few they are (its estimate
    -- of the union is in the tens of millions, and it would build its hash
    -- table on the stage changes instead).
    SELECT account_id, candidate_id, any_value(as_of_end) AS as_of_end
    FROM (
        SELECT e.account_id, e.candidate_id, q.as_of_end
        FROM p_offered q JOIN stage_events e ON e.account_id = q.account_id AND earlier(e.changed_at, q.as_of_end)
        WHERE e.funnel_stage IN ('offered', 'hired')
        UNION
        SELECT c.account_id, c.candidate_id, q.as_of_end
        FROM p_offered q JOIN candidates c ON c.account_id = q.account_id
        WHERE c.funnel_stage IN ('offered', 'hired')
        UNION
        SELECT e.account_id, e.candidate_id, q.as_of_end
        FROM p_unmapped q JOIN stage_events e ON e.account_id = q.account_id AND earlier(e.changed_at, q.as_of_end)
        WHERE e.funnel_stage IS NULL
        UNION
        SELECT c.account_id, c.candidate_id, q.as_of_end
        FROM p_unmapped q JOIN candidates c ON c.account_id = q.account_id
        WHERE c.funnel_stage IS NULL
        UNION
        SELECT c.account_id, c.candidate_id, q.as_of_end
        FROM p_open_jobs q
        JOIN job_openings o ON o.account_id = q.account_id AND live_at(o.remote_deleted_at, q.as_of_end)
         AND job_state(o.opened_on, o.open_until, o.status, q.as_of) = 'open'
        JOIN candidates c ON c.account_id = o.account_id AND c.job_id = o.job_id
    )
    GROUP BY account_id, candidate_id
),
x AS (
    -- r = -1 marks the application's own row (rid 1: views over Parquet,
    -- as the lake has, have no rowid to carry). The
    -- focused branches join the changes to the few focused applications
    -- directly, so the planner builds its hash table on those.
    SELECT e.account_id, e.candidate_id, change_key(e.changed_at, e.funnel_stage) AS k,
           funnel_rank(e.funnel_stage) AS r, e.changed_at, e.stage, p.as_of_end, NULL::BIGINT AS rid
    FROM p_all p JOIN stage_events e ON e.account_id = p.account_id
    UNION ALL
    SELECT e.account_id, e.candidate_id, change_key(e.changed_at, e.funnel_stage),
           funnel_rank(e.funnel_stage), e.changed_at, e.stage, f.as_of_end, NULL::BIGINT
    FROM stage_events e JOIN focus f ON f.account_id = e.account_id AND f.candidate_id = e.candidate_id
    UNION ALL
    SELECT c.account_id, c.candidate_id, NULL, -1, NULL, NULL, p.as_of_end, 1::BIGINT
    FROM p_all p JOIN candidates c ON c.account_id = p.account_id
    UNION ALL
    SELECT c.account_id, c.candidate_id, NULL, -1, NULL, NULL, f.as_of_end, 1::BIGINT
    FROM candidates c JOIN focus f ON f.account_id = c.account_id AND f.candidate_id = c.candidate_id
),
agg AS (
    SELECT account_id, candidate_id, any_value(as_of_end) AS as_of_end,
           any_value(rid) FILTER (WHERE r = -1) AS rid,
           count(*) FILTER (WHERE r >= 0) AS events,
           max(k) FILTER (WHERE r >= 0 AND changed_at < as_of_end) AS last_k,
           arg_max(stage, k) FILTER (WHERE r >= 0 AND changed_at < as_of_end) AS last_stage,
           min(changed_at) FILTER (WHERE r IN (4, 5) AND changed_at < as_of_end) AS offered_at
    FROM x
    GROUP BY account_id, candidate_id
),
apps AS (
    SELECT a.account_id, a.candidate_id, c.job_id, nullif(trim(c.source), '') AS source, c.disposition,
           coalesce(c.applied_at, c.first_seen_at) AS applied_at, a.events = 0 AS no_history,
           c.stage AS current_stage, c.funnel_stage AS current_funnel, c.hired_at AS first_hired_at,
           a.as_of_end, a.last_k, a.last_stage, a.offered_at
    FROM agg a
    JOIN candidates c ON c.account_id = a.account_id AND c.candidate_id = a.candidate_id AND a.rid IS NOT NULL
    WHERE live_at(c.remote_deleted_at, a.as_of_end)
      AND earlier(coalesce(c.applied_at, c.first_seen_at), a.as_of_end)
),
shaped AS (
    SELECT s.*,
           CASE WHEN NOT s.no_history THEN s.first_hired_at
                WHEN s.current_funnel = 'hired' THEN s.applied_at END AS hire_at
    FROM apps s
)
SELECT s.account_id, s.candidate_id, s.job_id, s.source, s.disposition,
       CASE WHEN s.no_history THEN s.current_stage ELSE s.last_stage END AS stage,
       CASE WHEN s.no_history THEN s.current_funnel
            WHEN s.last_k IS NULL THEN 'applied'
            ELSE key_funnel_stage(s.last_k) END AS funnel_stage,
       CASE WHEN s.last_k IS NULL THEN s.applied_at ELSE key_instant(s.last_k) END AS entered_at,
       s.last_k,
       CASE WHEN s.no_history THEN CASE WHEN s.current_funnel IN ('offered', 'hired') THEN s.applied_at END
            ELSE s.offered_at END AS offered_at,
       CASE WHEN hire_standing(s.hire_at, s.last_k, s.as_of_end) THEN s.hire_at END AS hired_at,
       s.applied_at
FROM shaped s;
