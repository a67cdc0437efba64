package queries

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/stackhouse/stackhouse/warehouse"
)

// genAccounts returns the configured accounts of a generated dataset of n
// accounts (acct0, acct1, ...), in time zones on both sides of UTC.
func genAccounts(n int) []warehouse.Account {
	zones := []string{"America/New_York", "America/Los_Angeles", "Europe/Berlin", "America/Chicago", "UTC"}
	var out []warehouse.Account
	for i := range n {
		out = append(out, warehouse.Account{ID: fmt.Sprintf("acct%d", i), TimeZone: zones[i%len(zones)]})
	}
	return out
}

// genSize shapes a generated dataset.
type genSize struct {
	Accounts, Jobs, Apps int
}

// generate fills db (migrated, empty) with a deterministic synthetic
// warehouse: jobs opened over 2022-2024, applications spread over them, and
// for each application a stage history consistent with its funnel:
//
//	furthest stage: 45% applied, 25% screened, 15% interviewed, 8% offered, 7% hired
//	(one job in eight never hires: its would-be hires stop at offered);
//	10% of those past screening skip it; non-hires end 60% rejected,
//	10% withdrawn, 30% still open (2% of those in an unmapped stage);
//	0.5% of applications are deleted.
//
// Every choice is a hash of the row number, so the data is the same on every
// run and DuckDB can generate it in parallel.
func generate(tb testing.TB, db *sql.DB, n genSize) {
	tb.Helper()
	a, j, apps := n.Accounts, n.Jobs, n.Apps
	execSQL(tb, db, fmt.Sprintf(`
INSERT INTO jobs (account_id, job_id, code, name, status, department, location,
                  opened_at, remote_created_at, remote_updated_at, first_seen_at, last_seen_at)
SELECT 'acct' || (j %% %[1]d), 'job' || j, 'JOB-' || j, 'Job ' || j, 'open',
       ['Engineering', 'Sales', 'Support', 'Operations', 'Marketing', 'Finance'][1 + CAST(hash(j, 'dep') %% 6 AS BIGINT)],
       ['Berlin', 'Austin', 'Remote', 'London', 'Paris'][1 + CAST(hash(j, 'loc') %% 5 AS BIGINT)],
       ts, ts, TIMESTAMPTZ '2025-01-01 00:00:00+00', now(), now()
FROM (SELECT j, CAST(TIMESTAMP '2022-01-01 00:00:00' + to_days(CAST(hash(j, 'open') %% 900 AS INTEGER))
                     + to_minutes(CAST(hash(j, 'om') %% 1440 AS INTEGER)) AS TIMESTAMPTZ) AS ts
      FROM range(%[2]d) t(j));`, a, j),
		fmt.Sprintf(`
CREATE OR REPLACE TEMP TABLE gen AS
SELECT i, 'c' || i AS candidate_id, jb.job_id, jb.account_id,
       make_timestamp(epoch_us(jb.opened_at)) + to_days(CAST(hash(i, 'ap') %% 180 AS INTEGER))
           + to_seconds(CAST(hash(i, 'as') %% 86400 AS BIGINT)) AS applied,
       CASE WHEN u < 450 THEN 1 WHEN u < 700 THEN 2 WHEN u < 850 THEN 3
            WHEN u < 930 OR hash(jb.job_id, 'nohire') %% 8 = 0 THEN 4 ELSE 5 END AS furthest,
       hash(i, 'skip') %% 10 = 0 AS skip,
       CASE WHEN u >= 930 AND hash(jb.job_id, 'nohire') %% 8 <> 0 THEN 'hired'
            WHEN v < 6 THEN 'rejected' WHEN v < 7 THEN 'withdrawn' ELSE 'open' END AS outcome,
       hash(i, 'unmapped') %% 50 = 0 AS unmapped,
       CAST(24 + hash(i, 'gap') %% (14 * 24) AS BIGINT) AS gap,
       ['LinkedIn', 'Indeed', 'Referral', 'Career Site', 'Agency', NULL][1 + CAST(hash(i, 'src') %% 6 AS BIGINT)] AS source,
       'p' || (hash(i, 'person') %% %[2]d) || '@example.com' AS person_key,
       hash(i, 'del') %% 200 = 0 AS deleted
FROM (SELECT i, hash(i, 'job') %% %[1]d AS jn, CAST(hash(i, 'f') %% 1000 AS BIGINT) AS u,
             CAST(hash(i, 'o') %% 10 AS BIGINT) AS v
      FROM range(%[3]d) t(i)) g
JOIN jobs jb ON jb.job_id = 'job' || g.jn;`, j, apps*9/10+1, apps),
		`
INSERT INTO stage_events (account_id, candidate_id, job_id, stage, funnel_stage, changed_at, origin)
SELECT account_id, candidate_id, job_id,
       ['New', 'Phone Screen', 'Interview', 'Offer', 'Hired'][k],
       ['applied', 'screened', 'interviewed', 'offered', 'hired'][k],
       CAST(applied + to_hours((k - 1) * gap) AS TIMESTAMPTZ), 'note'
FROM gen, range(1, 6) r(k)
WHERE k <= furthest AND NOT (k = 2 AND skip AND furthest >= 3)
UNION ALL
SELECT account_id, candidate_id, job_id,
       CASE outcome WHEN 'rejected' THEN 'Not a Fit' ELSE 'Withdrew' END, outcome,
       CAST(applied + to_hours((furthest - 1) * gap + 12) AS TIMESTAMPTZ), 'observed'
FROM gen WHERE outcome IN ('rejected', 'withdrawn')
UNION ALL
SELECT account_id, candidate_id, job_id, 'Talent Pool', NULL,
       CAST(applied + to_hours((furthest - 1) * gap + 12) AS TIMESTAMPTZ), 'observed'
FROM gen WHERE outcome = 'open' AND unmapped;`,
		`
INSERT INTO candidates (account_id, candidate_id, job_id, person_key, first_name, email, source,
                        stage, funnel_stage, applied_at, hired_at, rejected_at, last_changed_at,
                        remote_deleted_at, first_seen_at, last_seen_at)
SELECT account_id, candidate_id, job_id, person_key, 'Candidate ' || i, person_key, source,
       CASE WHEN outcome = 'rejected' THEN 'Not a Fit' WHEN outcome = 'withdrawn' THEN 'Withdrew'
            WHEN outcome = 'open' AND unmapped THEN 'Talent Pool'
            ELSE ['New', 'Phone Screen', 'Interview', 'Offer', 'Hired'][furthest] END,
       CASE WHEN outcome IN ('rejected', 'withdrawn') THEN outcome WHEN outcome = 'open' AND unmapped THEN NULL
            ELSE ['applied', 'screened', 'interviewed', 'offered', 'hired'][furthest] END,
       CAST(applied AS TIMESTAMPTZ),
       CASE WHEN outcome = 'hired' THEN CAST(applied + to_hours(4 * gap) AS TIMESTAMPTZ) END,
       CASE WHEN outcome IN ('rejected', 'withdrawn') THEN CAST(applied + to_hours((furthest - 1) * gap + 12) AS TIMESTAMPTZ) END,
       CAST(applied + to_hours((furthest - 1) * gap + CASE WHEN outcome = 'hired' OR (outcome = 'open' AND NOT unmapped) THEN 0 ELSE 12 END) AS TIMESTAMPTZ),
       CASE WHEN deleted THEN CAST(applied + to_days(30) AS TIMESTAMPTZ) END,
       now(), now()
FROM gen;`,
		`
UPDATE jobs SET status = CASE
    WHEN EXISTS (SELECT 1 FROM candidates c WHERE c.account_id = jobs.account_id AND c.job_id = jobs.job_id
                 AND c.hired_at >= jobs.opened_at) THEN 'filled'
    WHEN hash(job_id, 'closed') % 7 = 0 THEN 'closed'
    WHEN hash(job_id, 'hold') % 11 = 0 THEN 'on_hold'
    ELSE 'open' END;`,
		`
INSERT INTO hires (account_id, hire_id, candidate_id, hire_date, first_seen_at, last_seen_at)
SELECT account_id, 'h' || candidate_id, candidate_id, CAST(make_timestamp(epoch_us(hired_at)) AS DATE), now(), now()
FROM candidates WHERE hired_at IS NOT NULL;`,
		`
INSERT INTO sync_runs (run_id, account_id, mode, status, started_at, finished_at, complete_scan)
SELECT 'run-' || account_id, account_id, 'sync', 'succeeded', TIMESTAMPTZ '2025-01-01 00:00:00+00',
       TIMESTAMPTZ '2025-01-01 00:10:00+00', true
FROM (SELECT DISTINCT account_id FROM jobs);`,
		`DROP TABLE gen;`)
}
