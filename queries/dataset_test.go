package queries

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/warehouse"
)

// openDB opens an empty in-memory warehouse, migrated as stackhouse
// migrates one, with the shared definitions and the metric views.
func openDB(tb testing.TB) *sql.DB {
	tb.Helper()
	return openWarehouse(tb, "").SQL()
}

// openWarehouse opens the warehouse at path ("" = in memory), records
// accounts (with their time zones) and creates the shared definitions and
// metric views, as stackhouse does when it opens a warehouse. The test's
// cleanup closes it.
func openWarehouse(tb testing.TB, path string, accounts ...warehouse.Account) *warehouse.DB {
	tb.Helper()
	wh, err := newWarehouse(path, accounts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { wh.Close() })
	return wh
}

// newWarehouse is openWarehouse for a caller that closes the warehouse.
//
// A warehouse ("" is in memory) runs on one DuckDB thread: the tests' data
// is far below one row group, so more threads only add scheduling, and the
// tests run in parallel (t.Parallel) on machines with few cores.
func newWarehouse(path string, accounts ...warehouse.Account) (*warehouse.DB, error) {
	ctx := context.Background()
	if path == "" {
		path = ":memory:"
	}
	wh, err := warehouse.Open(ctx, path+"?threads=1")
	if err != nil {
		return nil, err
	}
	if len(accounts) > 0 {
		if err := wh.UpsertAccounts(ctx, accounts); err != nil {
			wh.Close()
			return nil, err
		}
	}
	if err := CreateViews(ctx, wh.SQL()); err != nil {
		wh.Close()
		return nil, err
	}
	return wh, nil
}

// execSQL runs statements on db, failing the test on error.
func execSQL(tb testing.TB, db *sql.DB, stmts ...string) {
	tb.Helper()
	events := false
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			tb.Fatalf("%v\n%s", err, s)
		}
		events = events || strings.Contains(s, "stage_events")
	}
	if events {
		deriveStints(tb, db)
	}
}

// insertStints fills stage_stints from every stage event.
const insertStints = `INSERT INTO stage_stints SELECT * FROM stage_stints_for('stage_events')`

// deriveStints rebuilds stage_stints from stage_events, as the warehouse's
// merge does for the applications it writes events of (stage_stints_for,
// migration 0008): the datasets here are written with SQL, not merged.
func deriveStints(tb testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}) {
	tb.Helper()
	for _, s := range []string{`DELETE FROM stage_stints`, insertStints} {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			tb.Fatalf("stage stints: %v", err)
		}
	}
}

// asOf is the snapshot date of the hand-built dataset's expectations.
var asOf = date("2024-06-30")

func date(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// handData is the small dataset every metric is checked against by hand.
// Times are written in UTC unless written with an offset. acme is in
// California (America/Los_Angeles: UTC-8, UTC-7 from 2024-03-10), globex in
// UTC; initech has no configuration (UTC).
//
// Account acme (stage names New, Phone Screen, Interview, Offer, Hired,
// Not a Fit, Withdrew; "Talent Pool" is unmapped):
//
//	J1 Backend Engineer   Engineering Berlin filled  opened 2024-01-01 10:00 (01-01 local), filled 02-20
//	J2 Frontend Engineer  Engineering Remote filled  opened 2024-01-15 00:00 (01-14 local), filled 07-12
//	J3 Sales Rep          Sales       Berlin open    opened 2024-03-01 09:00 (03-01 local)
//	J4 Recruiter          People      Remote closed  opened 2024-02-01 09:00, closed 02-20 (cancelled)
//	J5 Data Analyst       Engineering Berlin filled  opened 2024-04-01 23:30-08 (04-02 00:30 PDT), filled 05-03
//
//	A1  J1 LinkedIn  New 01-05 09:00, Phone Screen 01-08, Interview 01-15, Offer 01-25, Hired 02-01
//	A2  J1 Referral  New 01-06 10:00, Interview 01-20 (skips screen), Not a Fit 01-22
//	A3  J1 LinkedIn  New 01-10, Phone Screen 01-12, Interview 01-20, Offer 02-05, Withdrew 02-10
//	                 (events inserted out of order; same person as A6)
//	A4  J1 Indeed    New 01-12, Phone Screen 01-14, Not a Fit 01-16, Interview 02-01, Offer 02-10,
//	                 Hired 02-15 (rejected, then reconsidered and hired)
//	A5  J1 (blank)   New 06-20 15:00 (A1 applying again: same person_key)
//	A6  J2 LinkedIn  New 06-01, Interview 06-10, Offer 06-25, Hired 07-10 (after as_of)
//	A7  J2 Indeed    New 06-05, Talent Pool 06-15 (unmapped, current)
//	A8  J3 Referral  New 2024-03-02 23:30-08 (03-02 local), Phone Screen 03-05 00:30 (03-04 local)
//	A9  J3 Referral  New 03-05, Interview 03-10; deleted 2024-04-01
//	A10 J4 Indeed    New 02-05, Not a Fit 02-06
//	A11 J5 LinkedIn  New 04-10 12:00, Offer 04-20 (skips screen and interview), Hired 05-01 01:00
//	                 (04-30 local)
//	A12 J5 Referral  applied 04-12, no stage history at all, current Phone Screen
//
// Account globex (Applied, Screen, Onsite, Offer, Hired, Rejected; "Hold" unmapped):
//
//	G1 Warehouse Associate Operations Austin filled opened 2024-02-01, filled 02-25
//	G2 Forklift Driver     Operations Austin open   opened 2024-05-01
//	G3 Picker              Operations Austin open   opened 2024-01-01, deleted 2024-03-01
//
//	B1 G1 Indeed   Applied 01-10 10:00, Hired 01-20 (before G1 opened: an earlier cycle)
//	B2 G1 Indeed   Applied 02-02, Screen 02-04, Onsite 02-06, Offer 02-08, Hired 02-11 (a Sunday)
//	B3 G1 Referral Applied 02-03, Offer 02-15, Hired 02-20
//	B4 G1 Indeed   Applied 02-04, Hold 02-05, Rejected 02-07
//	B5 G2 Indeed   Applied 05-03, Screen 05-10, Offer 06-01, Rejected 06-05 (reason: Offer Declined)
//	B6 G2 Referral Applied 06-29 23:59
//	B7 G2 LinkedIn Applied 2024-07-01 02:00+05 = 06-30 21:00 UTC
//
// Account initech has only a sync run in progress.
const handData = `
INSERT INTO jobs (account_id, job_id, name, status, department, location, opened_at, remote_updated_at, remote_deleted_at, first_seen_at, last_seen_at) VALUES
 ('acme', 'J1', 'Backend Engineer',  'filled', 'Engineering', 'Berlin', '2024-01-01 10:00:00+00', '2024-02-20 18:00:00+00', NULL, now(), now()),
 ('acme', 'J2', 'Frontend Engineer', 'filled', 'Engineering', 'Remote', '2024-01-15 00:00:00+00', '2024-07-12 16:00:00+00', NULL, now(), now()),
 ('acme', 'J3', 'Sales Rep',         'open',   'Sales',       'Berlin', '2024-03-01 09:00:00+00', '2024-03-02 09:00:00+00', NULL, now(), now()),
 ('acme', 'J4', 'Recruiter',         'closed', 'People',      'Remote', '2024-02-01 09:00:00+00', '2024-02-20 12:00:00+00', NULL, now(), now()),
 ('acme', 'J5', 'Data Analyst',      'filled', 'Engineering', 'Berlin', '2024-04-01 23:30:00-08', '2024-05-03 12:00:00+00', NULL, now(), now()),
 ('globex', 'G1', 'Warehouse Associate', 'filled', 'Operations', 'Austin', '2024-02-01 00:00:00+00', '2024-02-25 10:00:00+00', NULL, now(), now()),
 ('globex', 'G2', 'Forklift Driver',     'open',   'Operations', 'Austin', '2024-05-01 00:00:00+00', NULL, NULL, now(), now()),
 ('globex', 'G3', 'Picker',              'open',   'Operations', 'Austin', '2024-01-01 00:00:00+00', NULL, '2024-03-01 00:00:00+00', now(), now());

INSERT INTO candidates (account_id, candidate_id, job_id, person_key, source, stage, funnel_stage, applied_at, hired_at, rejected_at, last_changed_at, remote_deleted_at, first_seen_at, last_seen_at) VALUES
 ('acme', 'A1',  'J1', 'a1@example.com', 'LinkedIn', 'Hired',        'hired',     '2024-01-05 09:00:00+00', '2024-02-01 12:00:00+00', NULL, '2024-02-01 12:00:00+00', NULL, now(), now()),
 ('acme', 'A2',  'J1', 'a2@example.com', 'Referral', 'Not a Fit',    'rejected',  '2024-01-06 10:00:00+00', NULL, '2024-01-22 10:00:00+00', '2024-01-22 10:00:00+00', NULL, now(), now()),
 ('acme', 'A3',  'J1', 'same@example.com', 'LinkedIn', 'Withdrew',   'withdrawn', '2024-01-10 08:00:00+00', NULL, '2024-02-10 08:00:00+00', '2024-02-10 08:00:00+00', NULL, now(), now()),
 ('acme', 'A4',  'J1', 'a4@example.com', 'Indeed',   'Hired',        'hired',     '2024-01-12 09:00:00+00', '2024-02-15 09:00:00+00', '2024-01-16 09:00:00+00', '2024-02-15 09:00:00+00', NULL, now(), now()),
 ('acme', 'A5',  'J1', 'a1@example.com', '',         'New',          'applied',   '2024-06-20 15:00:00+00', NULL, NULL, '2024-06-20 15:00:00+00', NULL, now(), now()),
 ('acme', 'A6',  'J2', 'same@example.com', 'LinkedIn', 'Hired',      'hired',     '2024-06-01 12:00:00+00', '2024-07-10 12:00:00+00', NULL, '2024-07-10 12:00:00+00', NULL, now(), now()),
 ('acme', 'A7',  'J2', 'a7@example.com', 'Indeed',   'Talent Pool',  NULL,        '2024-06-05 12:00:00+00', NULL, NULL, '2024-06-15 12:00:00+00', NULL, now(), now()),
 ('acme', 'A8',  'J3', 'a8@example.com', 'Referral', 'Phone Screen', 'screened',  '2024-03-02 23:30:00-08', NULL, NULL, '2024-03-05 00:30:00+00', NULL, now(), now()),
 ('acme', 'A9',  'J3', 'a9@example.com', 'Referral', 'Interview',    'interviewed', '2024-03-05 10:00:00+00', NULL, NULL, '2024-03-10 10:00:00+00', '2024-04-01 00:00:00+00', now(), now()),
 ('acme', 'A10', 'J4', 'a10@example.com', 'Indeed',  'Not a Fit',    'rejected',  '2024-02-05 10:00:00+00', NULL, '2024-02-06 10:00:00+00', '2024-02-06 10:00:00+00', NULL, now(), now()),
 ('acme', 'A11', 'J5', 'a11@example.com', 'LinkedIn', 'Hired',       'hired',     '2024-04-10 12:00:00+00', '2024-05-01 01:00:00+00', NULL, '2024-05-01 01:00:00+00', NULL, now(), now()),
 ('acme', 'A12', 'J5', NULL,             'Referral', 'Phone Screen', 'screened',  '2024-04-12 12:00:00+00', NULL, NULL, '2024-04-12 12:00:00+00', NULL, now(), now()),
 ('globex', 'B1', 'G1', 'b1@example.com', 'Indeed',   'Hired',    'hired',    '2024-01-10 10:00:00+00', '2024-01-20 10:00:00+00', NULL, '2024-01-20 10:00:00+00', NULL, now(), now()),
 ('globex', 'B2', 'G1', 'b2@example.com', 'Indeed',   'Hired',    'hired',    '2024-02-02 10:00:00+00', '2024-02-11 10:00:00+00', NULL, '2024-02-11 10:00:00+00', NULL, now(), now()),
 ('globex', 'B3', 'G1', 'b3@example.com', 'Referral', 'Hired',    'hired',    '2024-02-03 10:00:00+00', '2024-02-20 10:00:00+00', NULL, '2024-02-20 10:00:00+00', NULL, now(), now()),
 ('globex', 'B4', 'G1', 'b4@example.com', 'Indeed',   'Rejected', 'rejected', '2024-02-04 10:00:00+00', NULL, '2024-02-07 10:00:00+00', '2024-02-07 10:00:00+00', NULL, now(), now()),
 ('globex', 'B5', 'G2', 'b5@example.com', 'Indeed',   'Rejected', 'rejected', '2024-05-03 10:00:00+00', NULL, '2024-06-05 10:00:00+00', '2024-06-05 10:00:00+00', NULL, now(), now()),
 ('globex', 'B6', 'G2', 'b6@example.com', 'Referral', 'Applied',  'applied',  '2024-06-29 23:59:00+00', NULL, NULL, '2024-06-29 23:59:00+00', NULL, now(), now()),
 ('globex', 'B7', 'G2', 'b7@example.com', 'LinkedIn', 'Applied',  'applied',  '2024-07-01 02:00:00+05', NULL, NULL, '2024-07-01 02:00:00+05', NULL, now(), now());

-- A3's history arrives out of order: offer and withdrawal before the rest.
INSERT INTO stage_events (account_id, candidate_id, job_id, stage, funnel_stage, changed_at, origin) VALUES
 ('acme', 'A3', 'J1', 'Offer',        'offered',   '2024-02-05 08:00:00+00', 'note'),
 ('acme', 'A3', 'J1', 'Withdrew',     'withdrawn', '2024-02-10 08:00:00+00', 'note'),
 ('acme', 'A1', 'J1', 'Hired',        'hired',     '2024-02-01 12:00:00+00', 'note'),
 ('acme', 'A1', 'J1', 'New',          'applied',   '2024-01-05 09:00:00+00', 'note'),
 ('acme', 'A1', 'J1', 'Phone Screen', 'screened',  '2024-01-08 12:00:00+00', 'note'),
 ('acme', 'A1', 'J1', 'Interview',    'interviewed', '2024-01-15 12:00:00+00', 'note'),
 ('acme', 'A1', 'J1', 'Offer',        'offered',   '2024-01-25 12:00:00+00', 'note'),
 ('acme', 'A2', 'J1', 'New',          'applied',   '2024-01-06 10:00:00+00', 'note'),
 ('acme', 'A2', 'J1', 'Interview',    'interviewed', '2024-01-20 10:00:00+00', 'note'),
 ('acme', 'A2', 'J1', 'Not a Fit',    'rejected',  '2024-01-22 10:00:00+00', 'observed'),
 ('acme', 'A3', 'J1', 'Interview',    'interviewed', '2024-01-20 08:00:00+00', 'note'),
 ('acme', 'A3', 'J1', 'Phone Screen', 'screened',  '2024-01-12 08:00:00+00', 'note'),
 ('acme', 'A3', 'J1', 'New',          'applied',   '2024-01-10 08:00:00+00', 'note'),
 ('acme', 'A4', 'J1', 'New',          'applied',   '2024-01-12 09:00:00+00', 'note'),
 ('acme', 'A4', 'J1', 'Phone Screen', 'screened',  '2024-01-14 09:00:00+00', 'note'),
 ('acme', 'A4', 'J1', 'Not a Fit',    'rejected',  '2024-01-16 09:00:00+00', 'note'),
 ('acme', 'A4', 'J1', 'Interview',    'interviewed', '2024-02-01 09:00:00+00', 'note'),
 ('acme', 'A4', 'J1', 'Offer',        'offered',   '2024-02-10 09:00:00+00', 'note'),
 ('acme', 'A4', 'J1', 'Hired',        'hired',     '2024-02-15 09:00:00+00', 'webhook'),
 ('acme', 'A5', 'J1', 'New',          'applied',   '2024-06-20 15:00:00+00', 'note'),
 ('acme', 'A6', 'J2', 'New',          'applied',   '2024-06-01 12:00:00+00', 'note'),
 ('acme', 'A6', 'J2', 'Interview',    'interviewed', '2024-06-10 12:00:00+00', 'note'),
 ('acme', 'A6', 'J2', 'Offer',        'offered',   '2024-06-25 12:00:00+00', 'note'),
 ('acme', 'A6', 'J2', 'Hired',        'hired',     '2024-07-10 12:00:00+00', 'note'),
 ('acme', 'A7', 'J2', 'New',          'applied',   '2024-06-05 12:00:00+00', 'note'),
 ('acme', 'A7', 'J2', 'Talent Pool',  NULL,        '2024-06-15 12:00:00+00', 'observed'),
 ('acme', 'A8', 'J3', 'New',          'applied',   '2024-03-02 23:30:00-08', 'note'),
 ('acme', 'A8', 'J3', 'Phone Screen', 'screened',  '2024-03-05 00:30:00+00', 'note'),
 ('acme', 'A9', 'J3', 'New',          'applied',   '2024-03-05 10:00:00+00', 'note'),
 ('acme', 'A9', 'J3', 'Interview',    'interviewed', '2024-03-10 10:00:00+00', 'note'),
 ('acme', 'A10', 'J4', 'New',         'applied',   '2024-02-05 10:00:00+00', 'note'),
 ('acme', 'A10', 'J4', 'Not a Fit',   'rejected',  '2024-02-06 10:00:00+00', 'note'),
 ('acme', 'A11', 'J5', 'New',         'applied',   '2024-04-10 12:00:00+00', 'note'),
 ('acme', 'A11', 'J5', 'Offer',       'offered',   '2024-04-20 12:00:00+00', 'note'),
 ('acme', 'A11', 'J5', 'Hired',       'hired',     '2024-05-01 01:00:00+00', 'note'),
 ('globex', 'B1', 'G1', 'Applied',  'applied',     '2024-01-10 10:00:00+00', 'note'),
 ('globex', 'B1', 'G1', 'Hired',    'hired',       '2024-01-20 10:00:00+00', 'note'),
 ('globex', 'B2', 'G1', 'Applied',  'applied',     '2024-02-02 10:00:00+00', 'note'),
 ('globex', 'B2', 'G1', 'Screen',   'screened',    '2024-02-04 10:00:00+00', 'note'),
 ('globex', 'B2', 'G1', 'Onsite',   'interviewed', '2024-02-06 10:00:00+00', 'note'),
 ('globex', 'B2', 'G1', 'Offer',    'offered',     '2024-02-08 10:00:00+00', 'note'),
 ('globex', 'B2', 'G1', 'Hired',    'hired',       '2024-02-11 10:00:00+00', 'note'),
 ('globex', 'B3', 'G1', 'Applied',  'applied',     '2024-02-03 10:00:00+00', 'note'),
 ('globex', 'B3', 'G1', 'Offer',    'offered',     '2024-02-15 10:00:00+00', 'note'),
 ('globex', 'B3', 'G1', 'Hired',    'hired',       '2024-02-20 10:00:00+00', 'note'),
 ('globex', 'B4', 'G1', 'Applied',  'applied',     '2024-02-04 10:00:00+00', 'note'),
 ('globex', 'B4', 'G1', 'Hold',     NULL,          '2024-02-05 10:00:00+00', 'note'),
 ('globex', 'B4', 'G1', 'Rejected', 'rejected',    '2024-02-07 10:00:00+00', 'note'),
 ('globex', 'B5', 'G2', 'Applied',  'applied',     '2024-05-03 10:00:00+00', 'note'),
 ('globex', 'B5', 'G2', 'Screen',   'screened',    '2024-05-10 10:00:00+00', 'note'),
 ('globex', 'B5', 'G2', 'Offer',    'offered',     '2024-06-01 10:00:00+00', 'note'),
 ('globex', 'B5', 'G2', 'Rejected', 'rejected',    '2024-06-05 10:00:00+00', 'note'),
 ('globex', 'B6', 'G2', 'Applied',  'applied',     '2024-06-29 23:59:00+00', 'note'),
 ('globex', 'B7', 'G2', 'Applied',  'applied',     '2024-07-01 02:00:00+05', 'note');

-- B5 turned the offer down; A2 and A10 were turned down.
UPDATE candidates SET disposition = CASE candidate_id WHEN 'B5' THEN 'Offer Declined' ELSE 'Not a Fit' END
WHERE candidate_id IN ('B5', 'A2', 'A10');

INSERT INTO attachments (account_id, attachment_id, candidate_id, file_name, remote_deleted_at, first_seen_at, last_seen_at) VALUES
 ('acme', 'F1', 'A1', 'cv.pdf', NULL, now(), now()),
 ('acme', 'F2', 'A2', 'old.pdf', '2024-03-01 00:00:00+00', now(), now());

INSERT INTO hires (account_id, hire_id, candidate_id, hire_date, first_seen_at, last_seen_at) VALUES
 ('acme', 'H1', 'A1', '2024-02-01', now(), now()),
 ('globex', 'H2', 'B2', '2024-02-11', now(), now());

INSERT INTO sync_runs (run_id, account_id, mode, status, started_at, finished_at, complete_scan, error) VALUES
 ('r1', 'acme',    'sync', 'succeeded', '2024-06-30 10:00:00+00', '2024-06-30 10:05:00+00', true,  NULL),
 ('r2', 'acme',    'tail', 'failed',    '2024-06-30 12:00:00+00', '2024-06-30 12:01:00+00', false, 'candidate page 3: timeout'),
 ('r0', 'globex',  'sync', 'failed',    '2024-06-28 08:00:00+00', '2024-06-28 08:01:00+00', false, 'jobs page 1: 503'),
 ('r3', 'globex',  'sync', 'succeeded', '2024-06-29 08:00:00+00', '2024-06-29 08:10:00+00', false, NULL),
 ('r4', 'initech', 'backfill', 'running', '2024-06-30 13:00:00+00', NULL, false, NULL);
`

// handAccounts are the configured accounts of handData: acme in
// California, globex in UTC; initech has no configuration (read in UTC).
var handAccounts = []warehouse.Account{
	{ID: "acme", Name: "Acme", TimeZone: "America/Los_Angeles"},
	{ID: "globex", Name: "Globex", TimeZone: "UTC"},
}

// openHand opens a new database holding handData, for a test that changes
// it; a test that only reads handData uses sharedHand.
func openHand(tb testing.TB) *sql.DB {
	tb.Helper()
	db := openWarehouse(tb, "", handAccounts...).SQL()
	execSQL(tb, db, handData)
	return db
}

// newHand is openHand for a caller that closes the warehouse.
func newHand() (*warehouse.DB, error) {
	wh, err := newWarehouse("", handAccounts...)
	if err != nil {
		return nil, err
	}
	if _, err := wh.SQL().ExecContext(context.Background(), handData); err != nil {
		wh.Close()
		return nil, err
	}
	if _, err := wh.SQL().ExecContext(context.Background(), insertStints); err != nil {
		wh.Close()
		return nil, err
	}
	return wh, nil
}

// hand is the database sharedHand returns, built once per test binary.
var hand = sync.OnceValues(func() (*sql.DB, error) {
	wh, err := newHand()
	if err != nil {
		return nil, err
	}
	return wh.SQL(), nil
})

// sharedHand returns the one database holding handData that the tests
// which only read it share, in parallel: building it (migrations, views,
// data) costs more than most of their queries. A test must not change it
// (openHand gives a private copy); it lives until the test binary exits.
func sharedHand(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := hand()
	if err != nil {
		tb.Fatalf("hand-built database: %v", err)
	}
	return db
}
