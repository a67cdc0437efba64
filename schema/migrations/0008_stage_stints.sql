-- 0008_stage_stints: the stage history as stints, one row per stage an
-- application entered, with when it left it (dbt_greenhouse's
-- application_history: valid_from, valid_until). Derived from stage_events
-- only: an application's stints are rebuilt from all its events
-- (stage_stints_for) after a merge stores new ones, so time in stage is a
-- scan of this table rather than a window over every stage change.
--
-- seq numbers an application's stints from 1 in the order of its changes:
-- by changed_at, then, at one instant, by funnel order (applied .. hired,
-- rejected, withdrawn; unmapped first), then by stage name and origin.
-- left_at is the application's next change (NULL: its current stage).
-- Consecutive stints in one funnel stage make one stay in it: the first of
-- them enters_funnel_stage; funnel_entered_at and funnel_left_at (the next
-- change to another funnel stage; NULL: still in it) are the stay's, on each
-- of its stints. Unmapped stages (funnel_stage NULL) count as one funnel
-- stage.
CREATE TABLE stage_stints (
    account_id          VARCHAR NOT NULL,
    candidate_id        VARCHAR NOT NULL,
    seq                 INTEGER NOT NULL,
    job_id              VARCHAR,
    stage               VARCHAR NOT NULL,
    funnel_stage        VARCHAR,
    entered_at          TIMESTAMPTZ NOT NULL,
    left_at             TIMESTAMPTZ,
    enters_funnel_stage BOOLEAN NOT NULL,
    funnel_entered_at   TIMESTAMPTZ NOT NULL,
    funnel_left_at      TIMESTAMPTZ
);

-- stints_pending: the applications whose stage events a merge slice of the
-- shared landing stored, whose stints are rebuilt once the slices of that
-- merge are done (in one statement, not one per slice). Internal.
CREATE TABLE stackhouse_internal.stints_pending (
    account_id   VARCHAR NOT NULL,
    candidate_id VARCHAR NOT NULL
);

-- stage_stints_for(ids): the stints of the applications named by the
-- table or view ids (columns account_id, candidate_id), from all their
-- stored stage events.
CREATE MACRO stage_stints_for(ids) AS TABLE
WITH ordered AS (
    SELECT e.account_id, e.candidate_id, e.job_id, e.stage, e.funnel_stage, e.changed_at,
           row_number() OVER w AS seq,
           lead(e.changed_at) OVER w AS left_at,
           lag(e.funnel_stage) OVER w IS DISTINCT FROM e.funnel_stage OR row_number() OVER w = 1 AS enters
    FROM stage_events e
    SEMI JOIN query_table(ids) t ON t.account_id = e.account_id AND t.candidate_id = e.candidate_id
    WINDOW w AS (PARTITION BY e.account_id, e.candidate_id
                 ORDER BY e.changed_at,
                          CASE e.funnel_stage WHEN 'applied' THEN 1 WHEN 'screened' THEN 2 WHEN 'interviewed' THEN 3
                               WHEN 'offered' THEN 4 WHEN 'hired' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7
                               ELSE 0 END,
                          e.stage, e.origin)
)
SELECT account_id, candidate_id, CAST(seq AS INTEGER) AS seq, job_id, stage, funnel_stage,
       changed_at AS entered_at, left_at, enters AS enters_funnel_stage,
       -- The latest change that entered a funnel stage, up to this one, and
       -- the next one after it.
       max(CASE WHEN enters THEN changed_at END) OVER (s ROWS UNBOUNDED PRECEDING) AS funnel_entered_at,
       first_value(CASE WHEN enters THEN changed_at END IGNORE NULLS)
           OVER (s ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS funnel_left_at
FROM ordered
WINDOW s AS (PARTITION BY account_id, candidate_id ORDER BY seq);

INSERT INTO stage_stints SELECT * FROM stage_stints_for('stage_events');
