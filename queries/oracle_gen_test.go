package queries

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/warehouse"
)

// The oracle's world: accounts generated with their ground truth (every
// application's full stage history, every job's status and dates), written
// into a warehouse as a sync would write them. oracle_test.go computes every
// metric from this truth in Go, never from the warehouse, and compares.

type oWorld struct {
	accounts []*oAccount
	runs     []oRun
}

type oAccount struct {
	id   string
	zone string // "" = no accounts row: the metrics read it in UTC
	loc  *time.Location
	jobs []*oJob
	apps []*oApp
}

type oJob struct {
	id, name, dept, location, status string // dept, location: "" = NULL, " " = blank
	opened, created, updated         time.Time
	firstSeen, lastSeen, deleted     time.Time
}

type oApp struct {
	id, job, source, person, disposition string // source: "" = NULL
	applied, firstSeen, deleted          time.Time
	stage, funnel                        string // current; funnel "" = unmapped (NULL)
	events                               []oEvent
}

type oEvent struct {
	stage, funnel string // funnel "" = unmapped
	at            time.Time
}

type oRun struct {
	account, status, errText string
	started, finished        time.Time
	complete                 bool
}

// Stage names of the generated accounts, by funnel stage; "Talent Pool" is
// unmapped.
var oStages = map[string][]string{
	"applied":     {"New"},
	"screened":    {"Phone Screen", "Manager Review"},
	"interviewed": {"Interview", "Interview 2"},
	"offered":     {"Offer"},
	"hired":       {"Hired"},
	"rejected":    {"Do Not Pursue"},
	"withdrawn":   {"Withdrawn", "Offer Declined"},
	"":            {"Talent Pool"},
}

var (
	oDepartments = []string{"Nursing", "Nursing", "Engineering", "Sales", "", " "}
	oLocations   = []string{"Austin", "Berlin", "Remote", ""}
	oSources     = []string{"Indeed", "LinkedIn", "Referral", "Career Site", "", " "}
	oEmployer    = []string{"Position Filled", "Not Qualified", "Insufficient Education", "Failed Background Check"}
	oCandidate   = []string{"Offer Declined", "No Show", "Candidate Withdrew", "Accepted another offer - declined"}
)

// genWorld builds the oracle's accounts: acme in California and globex in
// Berlin (configured), initech with no configuration (UTC). Each has
// generated jobs and applications over 2024 plus the scenarios the metrics
// must get right, built by hand.
func genWorld(seed uint64) *oWorld {
	w := &oWorld{}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, a := range []struct{ id, zone string }{{"acme", "America/Los_Angeles"}, {"globex", "Europe/Berlin"}, {"initech", ""}} {
		loc := time.UTC
		if a.zone != "" {
			loc, _ = time.LoadLocation(a.zone)
		}
		acc := &oAccount{id: a.id, zone: a.zone, loc: loc}
		genJobs(r, acc, 12)
		genApps(r, acc, 160)
		w.accounts = append(w.accounts, acc)
	}
	scenarios(w.accounts[0], w.accounts[1])
	for _, acc := range w.accounts {
		for i := range 3 {
			start := time.Date(2024, time.Month(2+4*i), 10+i, 7, 30, 0, 0, time.UTC)
			run := oRun{account: acc.id, status: "succeeded", started: start, finished: start.Add(17 * time.Minute), complete: i != 1}
			if i == 2 && acc.id == "globex" {
				run.status, run.errText = "failed", "candidate page 2: timeout"
			}
			w.runs = append(w.runs, run)
		}
	}
	return w
}

// local returns the instant at the given local wall time of the account.
func (a *oAccount) at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, a.loc)
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func genJobs(r *rand.Rand, acc *oAccount, n int) {
	for i := range n {
		j := &oJob{id: fmt.Sprintf("%s-j%02d", acc.id, i), name: fmt.Sprintf("Job %d", i),
			dept: pick(r, oDepartments), location: pick(r, oLocations)}
		j.created = acc.at(2023, 12, 1+r.IntN(28), r.IntN(24), r.IntN(60))
		j.opened = acc.at(2024, time.Month(1+r.IntN(6)), 1+r.IntN(28), r.IntN(24), r.IntN(60))
		if r.IntN(8) == 0 {
			j.opened = time.Time{} // opened at creation
		}
		j.firstSeen = j.created.Add(time.Duration(r.IntN(40)) * 24 * time.Hour)
		j.lastSeen = time.Date(2025, 1, 15, 9, 0, 0, 0, time.UTC)
		switch x := r.IntN(10); {
		case x < 4:
			j.status = "open"
			if r.IntN(2) == 0 {
				j.updated = j.created.Add(time.Duration(r.IntN(300)) * 24 * time.Hour)
			}
		case x < 5:
			j.status = "on_hold"
		case x < 8:
			j.status = "filled"
		default:
			j.status = "closed"
		}
		if j.status != "open" {
			base := j.opened
			if base.IsZero() {
				base = j.created
			}
			j.updated = base.Add(time.Duration(20+r.IntN(250))*24*time.Hour + time.Duration(r.IntN(86400))*time.Second)
			if r.IntN(10) == 0 {
				j.updated = time.Time{} // no modification date: last_seen_at stands in
			}
		}
		if r.IntN(12) == 0 {
			j.deleted = time.Date(2024, 9, 1+r.IntN(20), 12, 0, 0, 0, time.UTC)
		}
		acc.jobs = append(acc.jobs, j)
	}
}

func genApps(r *rand.Rand, acc *oAccount, n int) {
	for i := range n {
		job := pick(r, acc.jobs)
		app := &oApp{id: fmt.Sprintf("%s-c%03d", acc.id, i), job: job.id, source: pick(r, oSources),
			person: fmt.Sprintf("p%d@example.com", r.IntN(n*3/4))}
		if r.IntN(15) == 0 {
			app.person = ""
		}
		if r.IntN(25) == 0 {
			app.job = acc.id + "-gone" // a job the warehouse does not have
		}
		start := acc.at(2024, time.Month(1+r.IntN(11)), 1+r.IntN(28), r.IntN(24), r.IntN(60))
		if r.IntN(10) == 0 {
			start = acc.at(start.Year(), start.Month(), start.Day(), 23, 30) // late evening
		}
		app.applied = start
		app.firstSeen = start.Add(time.Duration(r.IntN(48)) * time.Hour)
		if r.IntN(20) == 0 {
			app.applied = time.Time{} // the list had no date: first_seen_at stands in
		}
		walk(r, app, start)
		if r.IntN(30) == 0 {
			app.deleted = start.Add(time.Duration(5+r.IntN(90)) * 24 * time.Hour)
		}
		acc.apps = append(acc.apps, app)
	}
}

// walk gives app a random stage history starting at start: forward moves
// that may skip stages, moves within a funnel stage, moves back, an
// unmapped stage, and an ending: hired (sometimes then rescinded),
// rejected (sometimes then rehired), withdrawn, or still in progress.
func walk(r *rand.Rand, app *oApp, start time.Time) {
	t := start
	add := func(funnel string) {
		app.events = append(app.events, oEvent{stage: pick(r, oStages[funnel]), funnel: funnel, at: t})
		// Gaps of hours to weeks, so changes fall on either side of local
		// midnights and of daylight-saving changes.
		t = t.Add(time.Duration(1+r.IntN(24*12))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	}
	order := []string{"applied", "screened", "interviewed", "offered", "hired"}
	add("applied")
	rank := 0
	for steps := 0; steps < 8; steps++ {
		switch x := r.IntN(100); {
		case x < 12: // stalls
			steps = 8
		case x < 30:
			add("rejected")
			app.disposition = pick(r, append(oEmployer, oCandidate...))
			if r.IntN(6) == 0 { // reconsidered
				rank = min(rank+1, 3)
				add(order[rank])
				continue
			}
			steps = 8
		case x < 36:
			add("withdrawn")
			steps = 8
		case x < 42: // within the funnel stage, or back one
			if r.IntN(2) == 0 && rank > 0 {
				rank--
			}
			add(order[rank])
		case x < 46:
			add("") // unmapped
		default:
			rank = min(rank+1+r.IntN(2)*boolInt(rank < 2), 4)
			if rank == 4 && r.IntN(2) == 0 {
				add("offered")
				add("hired")
				if r.IntN(7) == 0 { // no-show, rescinded
					add("rejected")
					app.disposition = pick(r, []string{"No Show", "Failed Background Check"})
				}
				steps = 8
				continue
			}
			add(order[rank])
		}
	}
	last := app.events[len(app.events)-1]
	app.stage, app.funnel = last.stage, last.funnel
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scenarios adds, by hand, what the metrics must get right whatever the
// random seed gives.
func scenarios(acme, globex *oAccount) {
	ev := func(a *oAccount, funnel, stage string, y int, m time.Month, d, hh, mm int) oEvent {
		return oEvent{stage: stage, funnel: funnel, at: a.at(y, m, d, hh, mm)}
	}
	app := func(a *oAccount, id, job, source string, events ...oEvent) *oApp {
		p := &oApp{id: id, job: job, source: source, person: id + "@example.com", applied: events[0].at,
			firstSeen: events[0].at.Add(time.Hour), events: events}
		last := events[len(events)-1]
		p.stage, p.funnel = last.stage, last.funnel
		a.apps = append(a.apps, p)
		return p
	}
	job := func(a *oAccount, id, status string, opened, updated time.Time) *oJob {
		j := &oJob{id: id, name: "Scenario " + id, dept: "Nursing", location: "Austin", status: status,
			opened: opened, created: opened.Add(-48 * time.Hour), updated: updated,
			firstSeen: opened, lastSeen: time.Date(2025, 1, 15, 9, 0, 0, 0, time.UTC)}
		a.jobs = append(a.jobs, j)
		return j
	}

	// An evergreen CNA requisition: open all year, hiring again and again.
	job(acme, "acme-cna", "open", acme.at(2024, 1, 8, 9, 0), time.Time{})
	for i := range 5 {
		m := time.Month(2 + 2*i)
		app(acme, fmt.Sprintf("acme-cna-%d", i), "acme-cna", "Indeed",
			ev(acme, "applied", "New", 2024, m, 3, 10, 0),
			ev(acme, "interviewed", "Interview", 2024, m, 9, 14, 0),
			ev(acme, "offered", "Offer", 2024, m, 15, 11, 0),
			ev(acme, "hired", "Hired", 2024, m, 20, 16, 0))
	}
	// A job filled on 2024-04-12, with an application after that, and a
	// hire later moved to Do Not Pursue (a no-show).
	job(acme, "acme-filled", "filled", acme.at(2024, 2, 1, 8, 0), acme.at(2024, 4, 12, 17, 0))
	app(acme, "acme-filled-1", "acme-filled", "Referral",
		ev(acme, "applied", "New", 2024, 2, 5, 9, 0),
		ev(acme, "screened", "Phone Screen", 2024, 2, 9, 9, 0),
		ev(acme, "offered", "Offer", 2024, 3, 29, 9, 0),
		ev(acme, "hired", "Hired", 2024, 4, 10, 9, 0))
	noShow := app(acme, "acme-filled-2", "acme-filled", "LinkedIn",
		ev(acme, "applied", "New", 2024, 2, 6, 9, 0),
		ev(acme, "offered", "Offer", 2024, 3, 30, 9, 0),
		ev(acme, "hired", "Hired", 2024, 4, 11, 9, 0),
		ev(acme, "rejected", "Do Not Pursue", 2024, 5, 2, 9, 0))
	noShow.disposition = "No Show"
	app(acme, "acme-filled-late", "acme-filled", "Career Site",
		ev(acme, "applied", "New", 2024, 5, 20, 8, 15))
	// A job with no candidates, and one on hold.
	job(acme, "acme-empty", "open", acme.at(2024, 3, 4, 9, 0), time.Time{})
	job(acme, "acme-hold", "on_hold", acme.at(2024, 1, 15, 9, 0), acme.at(2024, 5, 1, 12, 0))
	// Backward moves, within-stage moves and an unmapped stage, with changes
	// on both sides of the daylight-saving change of 2024-03-10 (02:00 PST
	// -> 03:00 PDT) and an application at 23:30.
	app(acme, "acme-back", "acme-hold", "Referral",
		ev(acme, "applied", "New", 2024, 3, 8, 23, 30),
		ev(acme, "screened", "Phone Screen", 2024, 3, 10, 1, 30),
		ev(acme, "screened", "Manager Review", 2024, 3, 10, 3, 30),
		ev(acme, "interviewed", "Interview", 2024, 3, 11, 0, 15),
		ev(acme, "screened", "Phone Screen", 2024, 3, 20, 23, 50),
		ev(acme, "", "Talent Pool", 2024, 4, 2, 10, 0),
		ev(acme, "", "Talent Pool", 2024, 4, 9, 10, 0),
		ev(acme, "interviewed", "Interview 2", 2024, 4, 20, 22, 0))
	// An application with no stage history at all, in its current stage.
	acme.apps = append(acme.apps, &oApp{id: "acme-nohistory", job: "acme-cna", source: "Referral", person: "nh@example.com",
		applied: acme.at(2024, 6, 3, 12, 0), firstSeen: acme.at(2024, 6, 3, 13, 0), stage: "Manager Review", funnel: "screened"})
	// Berlin: changes around its summer-time changes (2024-03-31, 2024-10-27)
	// and near midnight, on an evergreen job.
	job(globex, "globex-evergreen", "open", globex.at(2024, 1, 2, 0, 30), time.Time{})
	app(globex, "globex-dst-1", "globex-evergreen", "LinkedIn",
		ev(globex, "applied", "New", 2024, 3, 30, 23, 45),
		ev(globex, "screened", "Phone Screen", 2024, 3, 31, 1, 30),
		ev(globex, "interviewed", "Interview", 2024, 3, 31, 3, 30),
		ev(globex, "offered", "Offer", 2024, 4, 1, 0, 5),
		ev(globex, "hired", "Hired", 2024, 4, 2, 23, 55))
	app(globex, "globex-dst-2", "globex-evergreen", "Referral",
		ev(globex, "applied", "New", 2024, 10, 26, 23, 30),
		ev(globex, "interviewed", "Interview", 2024, 10, 27, 2, 30),
		ev(globex, "offered", "Offer", 2024, 10, 28, 0, 30),
		ev(globex, "withdrawn", "Offer Declined", 2024, 10, 29, 9, 0))
	refused := app(globex, "globex-refused", "globex-evergreen", "Indeed",
		ev(globex, "applied", "New", 2024, 5, 2, 9, 0),
		ev(globex, "offered", "Offer", 2024, 5, 20, 9, 0),
		ev(globex, "rejected", "Do Not Pursue", 2024, 5, 24, 9, 0))
	refused.disposition = "Position Filled"
}

// load writes the world into a new warehouse as a sync would leave it
// (candidates.hired_at and rejected_at derived from the history), records
// the configured accounts, and creates the metric views.
func (w *oWorld) load(tb testing.TB) *sql.DB {
	tb.Helper()
	var configured []warehouse.Account
	for _, a := range w.accounts {
		if a.zone != "" {
			configured = append(configured, warehouse.Account{ID: a.id, Name: a.id, TimeZone: a.zone})
		}
	}
	db := openWarehouse(tb, "", configured...).SQL()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		tb.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			tb.Fatalf("%v: %s %v", err, q, args)
		}
	}
	for _, a := range w.accounts {
		for _, j := range a.jobs {
			exec(`INSERT INTO jobs (account_id, job_id, name, status, department, location, opened_at, remote_created_at,
				remote_updated_at, remote_deleted_at, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				a.id, j.id, j.name, j.status, null(j.dept), null(j.location), null(j.opened), null(j.created),
				null(j.updated), null(j.deleted), j.firstSeen.UTC(), j.lastSeen.UTC())
		}
		for _, c := range a.apps {
			var hired, rejected, last time.Time
			for _, e := range c.events {
				if e.funnel == "hired" && hired.IsZero() {
					hired = e.at
				}
				if (e.funnel == "rejected" || e.funnel == "withdrawn") && rejected.IsZero() {
					rejected = e.at
				}
				last = e.at
			}
			var funnel any
			if c.funnel != "" {
				funnel = c.funnel
			}
			exec(`INSERT INTO candidates (account_id, candidate_id, job_id, person_key, source, disposition, stage, funnel_stage,
				applied_at, hired_at, rejected_at, last_changed_at, remote_deleted_at, first_seen_at, last_seen_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				a.id, c.id, c.job, null(c.person), null(c.source), null(c.disposition), c.stage, funnel,
				null(c.applied), null(hired), null(rejected), null(last), null(c.deleted),
				c.firstSeen.UTC(), time.Date(2025, 1, 15, 9, 0, 0, 0, time.UTC))
			for i, e := range c.events {
				var f any
				if e.funnel != "" {
					f = e.funnel
				}
				origin := "note"
				if i%3 == 2 {
					origin = "observed"
				}
				exec(`INSERT INTO stage_events (account_id, candidate_id, job_id, stage, funnel_stage, changed_at, origin)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, a.id, c.id, c.job, e.stage, f, e.at.UTC(), origin)
			}
		}
	}
	for i, r := range w.runs {
		exec(`INSERT INTO sync_runs (run_id, account_id, mode, status, started_at, finished_at, complete_scan, error)
			VALUES (?, ?, 'sync', ?, ?, ?, ?, ?)`, fmt.Sprintf("run%d", i), r.account, r.status, r.started.UTC(),
			r.finished.UTC(), r.complete, null(r.errText))
	}
	deriveStints(tb, tx)
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	return db
}

// null is v, or NULL for v's zero value; a time goes in UTC.
func null[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	if t, ok := any(v).(time.Time); ok {
		return t.UTC()
	}
	return v
}

// sortedEvents returns the history in change order: by instant, then funnel
// rank.
func (c *oApp) sortedEvents() []oEvent {
	evs := slices.Clone(c.events)
	slices.SortStableFunc(evs, func(a, b oEvent) int {
		if d := a.at.Compare(b.at); d != 0 {
			return d
		}
		return rankOf(a.funnel) - rankOf(b.funnel)
	})
	return evs
}
