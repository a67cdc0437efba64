package queries

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestOracle checks every metric, at every grain, at several as-of dates
// and periods, against answers computed in Go from the generator's ground
// truth (genWorld), never from the warehouse: local dates come from Go's
// time package in each account's zone, histories from the generated
// events. The definitions implemented here are the ones the .sql headers
// state; a difference is a bug in one or the other.
func TestOracle(t *testing.T) {
	t.Parallel()
	w := genWorld(9)
	db := w.load(t)
	asOfs := []string{"2024-03-10", "2024-06-30", "2024-11-03", "2025-02-01"}
	periods := []struct{ from, to string }{{"", ""}, {"2024-03-01", "2024-08-31"}, {"2024-06-15", ""}}
	checked := map[string]int{}
	for i, asOf := range asOfs {
		if testing.Short() && i != 1 && i != 2 {
			// -short (make check) compares at two dates: 06-30 with every
			// period and one account alone, and 11-03, a DST change in
			// acme's zone. make test compares at all four.
			continue
		}
		for _, m := range List() {
			for _, g := range grainsOf(m) {
				for j, per := range periods {
					if (per.from != "" || per.to != "") && !m.Takes(ParamFrom) {
						continue
					}
					if j > 0 && i%2 == 0 {
						continue // periods at every other as-of date: the test stays quick
					}
					for _, allJobs := range []bool{false, true} {
						if allJobs && !m.Takes(ParamAllJobs) {
							continue
						}
						for _, account := range []string{"", "globex"} {
							if account != "" && (i != 1 || j > 0) {
								continue // one account alone, once
							}
							p := Params{Account: account, AsOf: date(asOf), Grain: g, AllJobs: allJobs}
							if per.from != "" {
								p.From = date(per.from)
							}
							if per.to != "" {
								p.To = date(per.to)
							}
							name := fmt.Sprintf("%s/%s/as_of=%s/from=%s/to=%s/all_jobs=%v/account=%s", m.Name, g, asOf, per.from, per.to, allJobs, account)
							want := w.truth(m.Name, p)
							got := run(t, db, m.Name, p)
							compareTruth(t, name, got, want)
							checked[m.Name+"/"+g] += len(want.rows)
						}
					}
				}
			}
		}
	}
	// Every metric and grain was compared on rows, not only on empty answers.
	for _, m := range List() {
		for _, g := range grainsOf(m) {
			if checked[m.Name+"/"+g] == 0 {
				t.Errorf("%s/%s: the oracle compared no rows", m.Name, g)
			}
		}
	}
}

// oTruth is an expected answer: its columns, the columns that identify a
// row, and the rows.
type oTruth struct {
	cols, key []string
	rows      []record
}

// add appends row r of group g, with g's dimensions of cols.
func (tr *oTruth) add(r record, g *group, cols []string) {
	for _, c := range cols {
		r[c] = g.dims[c]
	}
	tr.rows = append(tr.rows, r)
}

func compareTruth(t *testing.T, name string, got *Result, want oTruth) {
	t.Helper()
	if !slices.Equal(got.Columns, want.cols) {
		t.Errorf("%s: columns %v, want %v", name, got.Columns, want.cols)
		return
	}
	keyOf := func(r record) string {
		var parts []string
		for _, k := range want.key {
			v := r[k]
			if tm, ok := v.(time.Time); ok {
				v = tm.Format(dateLayout)
			}
			parts = append(parts, fmt.Sprint(v))
		}
		return strings.Join(parts, "|")
	}
	gotRows := map[string]record{}
	for _, r := range records(got) {
		k := keyOf(r)
		if _, dup := gotRows[k]; dup {
			t.Errorf("%s: two rows for %s", name, k)
		}
		gotRows[k] = r
	}
	for _, w := range want.rows {
		k := keyOf(w)
		g, ok := gotRows[k]
		if !ok {
			t.Errorf("%s: missing row %s: want %v", name, k, w)
			continue
		}
		delete(gotRows, k)
		for _, c := range want.cols {
			if !same(g[c], w[c]) {
				t.Errorf("%s: row %s: %s = %v (%T), want %v", name, k, c, g[c], g[c], w[c])
			}
		}
	}
	for k, r := range gotRows {
		t.Errorf("%s: unexpected row %s: %v", name, k, r)
	}
}

// Calendar helpers: a date is a UTC midnight standing for a calendar day.

func dateOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func daysBetween(a, b time.Time) int64 { return int64(b.Sub(a).Hours() / 24) }

func dateVal(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(dateLayout)
}

func inPeriod(d time.Time, p Params) bool {
	return (p.From.IsZero() || !d.Before(p.From)) && (p.To.IsZero() || !d.After(p.To))
}

func rankOf(funnel string) int {
	return map[string]int{"applied": 1, "screened": 2, "interviewed": 3, "offered": 4, "hired": 5, "rejected": 6, "withdrawn": 7}[funnel]
}

// quantile is quantile_cont: linear interpolation between the closest
// ranks; nil for no values.
func quantile(xs []float64, q float64) any {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := float64(len(s)-1) * q
	lo, hi := math.Floor(pos), math.Ceil(pos)
	return s[int(lo)] + (pos-lo)*(s[int(hi)]-s[int(lo)])
}

func mean(xs []float64) any {
	if len(xs) == 0 {
		return nil
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func ratio(a, b int64) any {
	if b == 0 {
		return nil
	}
	return float64(a) / float64(b)
}

// blankNull is nullif(trim(s), ”): "" and blanks are NULL.
func blankNull(s string) any {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.TrimSpace(s)
}

// The definitions, at the as-of date of an account.

func (a *oAccount) liveAt(deleted time.Time, asOf time.Time) bool {
	return deleted.IsZero() || dateOf(deleted, a.loc).After(asOf)
}

func (j *oJob) openedOn(loc *time.Location) time.Time {
	switch {
	case !j.opened.IsZero():
		return dateOf(j.opened, loc)
	case !j.created.IsZero():
		return dateOf(j.created, loc)
	}
	return time.Time{}
}

// openUntil is the day a job on hold, filled or closed stopped being open:
// its last modification, else when last seen; zero while open.
func (j *oJob) openUntil(loc *time.Location) time.Time {
	if j.status != "on_hold" && j.status != "filled" && j.status != "closed" {
		return time.Time{}
	}
	if !j.updated.IsZero() {
		return dateOf(j.updated, loc)
	}
	return dateOf(j.lastSeen, loc)
}

// state is the job's state on day d: "" before it opened, then open until
// openUntil, then its status.
func (j *oJob) state(loc *time.Location, d time.Time) string {
	o, u := j.openedOn(loc), j.openUntil(loc)
	switch {
	case o.IsZero() || o.After(d):
		return ""
	case u.IsZero() || d.Before(u):
		return "open"
	}
	return j.status
}

func (j *oJob) openBetween(loc *time.Location, from, to time.Time) bool {
	o, u := j.openedOn(loc), j.openUntil(loc)
	if o.IsZero() || (!to.IsZero() && o.After(to)) {
		return false
	}
	return u.IsZero() || (u.After(o) && (from.IsZero() || u.After(from)))
}

// appState is an application as of a date.
type appState struct {
	app       *oApp
	appliedAt time.Time
	appliedOn time.Time
	hist      []oEvent // changes by as_of, in order
	noHistory bool
	funnel    string // at as_of; "" = unmapped
	stage     any    // its name (nil: unknown)
	entered   time.Time
	reached   int
	offeredAt time.Time
	hired     bool // a standing hire
	hiredAt   time.Time
	hiredOn   time.Time
}

// states returns the applications of the account that exist at asOf.
func (a *oAccount) states(asOf time.Time) []*appState {
	var out []*appState
	for _, c := range a.apps {
		applied := c.applied
		if applied.IsZero() {
			applied = c.firstSeen
		}
		if dateOf(applied, a.loc).After(asOf) || !a.liveAt(c.deleted, asOf) {
			continue
		}
		s := &appState{app: c, appliedAt: applied, appliedOn: dateOf(applied, a.loc), noHistory: len(c.events) == 0}
		var firstHire time.Time
		for _, e := range c.sortedEvents() {
			if e.funnel == "hired" && firstHire.IsZero() {
				firstHire = e.at
			}
			if !dateOf(e.at, a.loc).After(asOf) {
				s.hist = append(s.hist, e)
			}
		}
		switch {
		case s.noHistory:
			s.funnel, s.stage, s.entered = c.funnel, c.stage, applied
			if r := rankOf(c.funnel); r >= 1 && r <= 5 {
				s.reached = r
			} else {
				s.reached = 1
			}
			if c.funnel == "offered" || c.funnel == "hired" {
				s.offeredAt = applied
			}
			if c.funnel == "hired" {
				s.hired, s.hiredAt = true, applied
			}
		case len(s.hist) == 0:
			s.funnel, s.stage, s.entered, s.reached = "applied", nil, applied, 1
		default:
			last := s.hist[len(s.hist)-1]
			s.funnel, s.stage, s.entered, s.reached = last.funnel, last.stage, last.at, 1
			for _, e := range s.hist {
				if r := rankOf(e.funnel); r >= 1 && r <= 5 {
					s.reached = max(s.reached, r)
				}
				if (e.funnel == "offered" || e.funnel == "hired") && s.offeredAt.IsZero() {
					s.offeredAt = e.at
				}
			}
			if !firstHire.IsZero() && !dateOf(firstHire, a.loc).After(asOf) &&
				last.funnel != "rejected" && last.funnel != "withdrawn" {
				s.hired, s.hiredAt = true, firstHire
			}
		}
		if s.reached == 5 && !s.hired {
			s.reached = 4
		}
		if s.hired {
			s.hiredOn = dateOf(s.hiredAt, a.loc)
		}
		out = append(out, s)
	}
	return out
}

func (a *oAccount) job(id string) *oJob {
	for _, j := range a.jobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

// jobDept is the department of an application's job (NULL for a job the
// warehouse does not have).
func (a *oAccount) jobDept(id string) any {
	if j := a.job(id); j != nil {
		return blankNull(j.dept)
	}
	return nil
}

func (a *oAccount) jobName(id string) any {
	if j := a.job(id); j != nil {
		return j.name
	}
	return nil
}

// accountsFor returns the accounts a metric covers.
// eachState calls f with every application state at p.AsOf in the
// accounts p covers.
func (w *oWorld) eachState(p Params, f func(a *oAccount, s *appState)) {
	for _, a := range w.accountsFor(p) {
		for _, s := range a.states(p.AsOf) {
			f(a, s)
		}
	}
}

func (w *oWorld) accountsFor(p Params) []*oAccount {
	var out []*oAccount
	for _, a := range w.accounts {
		if p.Account == "" || p.Account == a.id {
			out = append(out, a)
		}
	}
	return out
}

// truth computes the expected answer of a metric.
func (w *oWorld) truth(name string, p Params) oTruth {
	m, _ := Lookup(name)
	if p.Grain == "" {
		p.Grain = m.DefaultGrain()
	}
	switch name {
	case "time_to_fill":
		return w.timeToFill(p)
	case "time_to_hire":
		return w.timeToHire(p)
	case "funnel_conversion":
		return w.funnel(p)
	case "stage_duration":
		return w.stageDuration(p)
	case "source_of_hire":
		return w.sourceOfHire(p)
	case "pipeline_snapshot":
		return w.pipeline(p)
	case "applicants_per_opening":
		return w.applicantsPerOpening(p)
	case "hiring_velocity":
		return w.hiringVelocity(p)
	case "offer_acceptance":
		return w.offerAcceptance(p)
	case "open_jobs_aging":
		return w.openJobsAging(p)
	case "unmapped_stages":
		return w.unmappedStages(p)
	case "data_freshness":
		return w.dataFreshness(p)
	}
	panic("no oracle for " + name)
}

// group collects values under a key, remembering the key's columns.
type group struct {
	dims record
	vals map[string][]float64
	n    map[string]int64
}

type groups struct {
	order []string
	m     map[string]*group
}

func newGroups() *groups { return &groups{m: map[string]*group{}} }

func (gs *groups) get(dims record, keyCols []string) *group {
	var parts []string
	for _, k := range keyCols {
		parts = append(parts, fmt.Sprint(dims[k]))
	}
	k := strings.Join(parts, "|")
	g, ok := gs.m[k]
	if !ok {
		g = &group{dims: dims, vals: map[string][]float64{}, n: map[string]int64{}}
		gs.m[k] = g
		gs.order = append(gs.order, k)
	}
	return g
}

func (gs *groups) each(f func(*group)) {
	for _, k := range gs.order {
		f(gs.m[k])
	}
}

// dimsFor returns the grouping columns of a roll-up grain.
func dimsFor(grain string) []string {
	switch grain {
	case "account":
		return []string{"account_id"}
	case "job":
		return []string{"account_id", "job_id"}
	}
	return []string{"account_id", grain}
}

func (w *oWorld) timeToFill(p Params) oTruth {
	type listedJob struct {
		a         *oAccount
		j         *oJob
		status    string
		opened    time.Time
		firstHire time.Time
		firstIn   bool
		days      []float64 // per hire in the period
	}
	var listed []*listedJob
	for _, a := range w.accountsFor(p) {
		hires := map[string][]time.Time{}
		for _, s := range a.states(p.AsOf) {
			if s.hired {
				hires[s.app.job] = append(hires[s.app.job], s.hiredOn)
			}
		}
		for _, j := range a.jobs {
			o := j.openedOn(a.loc)
			if !a.liveAt(j.deleted, p.AsOf) || o.IsZero() || o.After(p.AsOf) {
				continue
			}
			l := &listedJob{a: a, j: j, status: j.state(a.loc, p.AsOf), opened: o}
			for _, h := range hires[j.id] {
				if h.Before(o) {
					continue
				}
				if l.firstHire.IsZero() || h.Before(l.firstHire) {
					l.firstHire, l.firstIn = h, inPeriod(h, p)
				}
				if inPeriod(h, p) {
					l.days = append(l.days, float64(daysBetween(o, h)))
				}
			}
			if len(l.days) > 0 || l.status == "open" || l.status == "on_hold" {
				listed = append(listed, l)
			}
		}
	}
	if p.Grain == "job" {
		tr := oTruth{cols: []string{"account_id", "job_id", "job_name", "department", "location", "status", "opened_on",
			"first_hire_on", "days_to_first_hire", "hires", "median_days_per_hire", "open_days"}, key: []string{"account_id", "job_id"}}
		for _, l := range listed {
			r := record{"account_id": l.a.id, "job_id": l.j.id, "job_name": l.j.name, "department": blankNull(l.j.dept),
				"location": blankNull(l.j.location), "status": l.status, "opened_on": dateVal(l.opened),
				"first_hire_on": dateVal(l.firstHire), "days_to_first_hire": nil, "hires": int64(len(l.days)),
				"median_days_per_hire": quantile(l.days, 0.5), "open_days": nil}
			if l.firstIn {
				r["days_to_first_hire"] = daysBetween(l.opened, l.firstHire)
			}
			if l.status == "open" || l.status == "on_hold" {
				r["open_days"] = daysBetween(l.opened, p.AsOf)
			}
			tr.rows = append(tr.rows, r)
		}
		return tr
	}
	keys := dimsFor(p.Grain)
	gs := newGroups()
	for _, l := range listed {
		dims := record{"account_id": l.a.id, "department": blankNull(l.j.dept), "location": blankNull(l.j.location)}
		g := gs.get(dims, keys)
		if l.firstIn {
			g.vals["first"] = append(g.vals["first"], float64(daysBetween(l.opened, l.firstHire)))
		}
		g.vals["hire"] = append(g.vals["hire"], l.days...)
		switch l.status {
		case "open":
			g.n["open"]++
		case "on_hold":
			g.n["hold"]++
		}
	}
	tr := oTruth{cols: append(slices.Clone(keys), "first_hires", "median_days_to_first_hire", "p75_days_to_first_hire",
		"hires", "median_days_per_hire", "p75_days_per_hire", "open_jobs", "on_hold_jobs"), key: keys}
	gs.each(func(g *group) {
		r := record{"first_hires": int64(len(g.vals["first"])), "median_days_to_first_hire": quantile(g.vals["first"], 0.5),
			"p75_days_to_first_hire": quantile(g.vals["first"], 0.75), "hires": int64(len(g.vals["hire"])),
			"median_days_per_hire": quantile(g.vals["hire"], 0.5), "p75_days_per_hire": quantile(g.vals["hire"], 0.75),
			"open_jobs": g.n["open"], "on_hold_jobs": g.n["hold"]}
		tr.add(r, g, keys)
	})
	return tr
}

// appGroups groups the applications' states at p.AsOf that keep accepts
// by the dimensions of p.Grain (keys), calling add with each state's group.
// cols are the grain's columns: keys, and at the job grain the job's name
// and department too.
func (w *oWorld) appGroups(p Params, keep func(*appState) bool, add func(*group, *appState)) (gs *groups, keys, cols []string) {
	keys = dimsFor(p.Grain)
	cols = slices.Clone(keys)
	if p.Grain == "job" {
		cols = []string{"account_id", "job_id", "job_name", "department"}
	}
	gs = newGroups()
	w.eachState(p, func(a *oAccount, s *appState) {
		if keep(s) {
			dims := record{"account_id": a.id, "job_id": s.app.job, "job_name": a.jobName(s.app.job),
				"department": a.jobDept(s.app.job), "source": blankNull(s.app.source)}
			add(gs.get(dims, keys), s)
		}
	})
	return gs, keys, cols
}

func (w *oWorld) timeToHire(p Params) oTruth {
	gs, keys, cols := w.appGroups(p, func(s *appState) bool { return s.hired && inPeriod(s.hiredOn, p) },
		func(g *group, s *appState) {
			g.vals["d"] = append(g.vals["d"], float64(daysBetween(s.appliedOn, s.hiredOn)))
		})
	tr := oTruth{cols: append(cols, "hires", "median_days", "p75_days", "mean_days"), key: keys}
	gs.each(func(g *group) {
		d := g.vals["d"]
		r := record{"hires": int64(len(d)), "median_days": quantile(d, 0.5), "p75_days": quantile(d, 0.75), "mean_days": mean(d)}
		tr.add(r, g, cols)
	})
	return tr
}

func (w *oWorld) funnel(p Params) oTruth {
	gs, keys, cols := w.appGroups(p, func(s *appState) bool { return inPeriod(s.appliedOn, p) },
		func(g *group, s *appState) {
			for r := 1; r <= s.reached; r++ {
				g.n[fmt.Sprint(r)]++
			}
		})
	tr := oTruth{cols: append(cols, "stage_order", "funnel_stage", "reached", "conversion", "overall_conversion"),
		key: append(slices.Clone(keys), "stage_order")}
	stages := []string{"applied", "screened", "interviewed", "offered", "hired"}
	gs.each(func(g *group) {
		for i, st := range stages {
			n := g.n[fmt.Sprint(i+1)]
			r := record{"stage_order": int64(i + 1), "funnel_stage": st, "reached": n, "conversion": nil,
				"overall_conversion": ratio(n, g.n["1"])}
			if i > 0 {
				r["conversion"] = ratio(n, g.n[fmt.Sprint(i)])
			}
			tr.add(r, g, cols)
		}
	})
	return tr
}

func (w *oWorld) stageDuration(p Params) oTruth {
	keys := []string{"account_id", "funnel_stage"}
	if p.Grain == "stage" {
		keys = append(keys, "stage")
	}
	gs := newGroups()
	w.eachState(p, func(a *oAccount, s *appState) {
		type stint struct {
			funnel, stage string
			from, to      time.Time // to zero: open
		}
		var stints []stint
		for i, e := range s.hist {
			st := stint{funnel: e.funnel, stage: e.stage, from: dateOf(e.at, a.loc)}
			if i+1 < len(s.hist) {
				st.to = dateOf(s.hist[i+1].at, a.loc)
			}
			stints = append(stints, st)
		}
		if p.Grain != "stage" { // merge consecutive stints in one funnel stage
			var runs []stint
			for _, st := range stints {
				if n := len(runs); n > 0 && runs[n-1].funnel == st.funnel {
					runs[n-1].to = st.to
					continue
				}
				runs = append(runs, st)
			}
			stints = runs
		}
		for _, st := range stints {
			if st.to.IsZero() && rankOf(st.funnel) >= 5 {
				continue // the end of a closed application
			}
			if !inPeriod(st.from, p) {
				continue
			}
			end := st.to
			if end.IsZero() {
				end = p.AsOf
			}
			var funnel any
			if st.funnel != "" {
				funnel = st.funnel
			}
			g := gs.get(record{"account_id": a.id, "funnel_stage": funnel, "stage": st.stage}, keys)
			g.vals["d"] = append(g.vals["d"], float64(daysBetween(st.from, end)))
			if st.to.IsZero() {
				g.n["open"]++
			}
		}
	})
	tr := oTruth{cols: append(slices.Clone(keys), "stage_order", "stints", "open_stints", "median_days", "p90_days", "mean_days"), key: keys}
	gs.each(func(g *group) {
		d := g.vals["d"]
		var order any
		if f, ok := g.dims["funnel_stage"].(string); ok {
			order = int64(rankOf(f))
		}
		r := record{"stage_order": order, "stints": int64(len(d)), "open_stints": g.n["open"],
			"median_days": quantile(d, 0.5), "p90_days": quantile(d, 0.9), "mean_days": mean(d)}
		tr.add(r, g, keys)
	})
	return tr
}

func (w *oWorld) sourceOfHire(p Params) oTruth {
	keys := []string{"account_id", "source"}
	tr := oTruth{cols: []string{"account_id", "source", "hires", "share_of_hires", "median_days_to_hire"}, key: keys}
	for _, a := range w.accountsFor(p) {
		gs := newGroups()
		total := int64(0)
		for _, s := range a.states(p.AsOf) {
			if !s.hired || !inPeriod(s.hiredOn, p) {
				continue
			}
			g := gs.get(record{"account_id": a.id, "source": blankNull(s.app.source)}, keys)
			g.vals["d"] = append(g.vals["d"], float64(daysBetween(s.appliedOn, s.hiredOn)))
			total++
		}
		gs.each(func(g *group) {
			n := int64(len(g.vals["d"]))
			tr.rows = append(tr.rows, record{"account_id": a.id, "source": g.dims["source"], "hires": n,
				"share_of_hires": ratio(n, total), "median_days_to_hire": quantile(g.vals["d"], 0.5)})
		})
	}
	return tr
}

func (w *oWorld) pipeline(p Params) oTruth {
	keys := []string{"account_id", "funnel_stage"}
	gs := newGroups()
	w.eachState(p, func(a *oAccount, s *appState) {
		if s.funnel == "hired" || s.funnel == "rejected" || s.funnel == "withdrawn" {
			return
		}
		j := a.job(s.app.job)
		if !p.AllJobs && (j == nil || !a.liveAt(j.deleted, p.AsOf) || j.state(a.loc, p.AsOf) != "open") {
			return
		}
		// The stay starts with the final run of changes in this funnel stage.
		stay := s.entered
		for i := len(s.hist) - 1; i >= 0 && s.hist[i].funnel == s.funnel; i-- {
			stay = s.hist[i].at
		}
		var funnel any
		if s.funnel != "" {
			funnel = s.funnel
		}
		g := gs.get(record{"account_id": a.id, "funnel_stage": funnel}, keys)
		g.vals["stage"] = append(g.vals["stage"], float64(daysBetween(dateOf(stay, a.loc), p.AsOf)))
		g.vals["applied"] = append(g.vals["applied"], float64(daysBetween(s.appliedOn, p.AsOf)))
	})
	tr := oTruth{cols: []string{"account_id", "funnel_stage", "stage_order", "open_applications", "median_days_in_stage",
		"median_days_since_applied"}, key: keys}
	gs.each(func(g *group) {
		var order any
		if f, ok := g.dims["funnel_stage"].(string); ok {
			order = int64(rankOf(f))
		}
		tr.rows = append(tr.rows, record{"account_id": g.dims["account_id"], "funnel_stage": g.dims["funnel_stage"],
			"stage_order": order, "open_applications": int64(len(g.vals["stage"])),
			"median_days_in_stage": quantile(g.vals["stage"], 0.5), "median_days_since_applied": quantile(g.vals["applied"], 0.5)})
	})
	return tr
}

func (w *oWorld) applicantsPerOpening(p Params) oTruth {
	type jobRow struct {
		a            *oAccount
		id           string
		name, dept   any
		opening      bool
		apps, people int64
	}
	var rows []*jobRow
	for _, a := range w.accountsFor(p) {
		until := p.AsOf
		if !p.To.IsZero() && p.To.Before(until) {
			until = p.To
		}
		byJob := map[string]*jobRow{}
		var order []string
		for _, j := range a.jobs {
			if !a.liveAt(j.deleted, p.AsOf) {
				continue
			}
			byJob[j.id] = &jobRow{a: a, id: j.id, name: j.name, dept: blankNull(j.dept), opening: j.openBetween(a.loc, p.From, until)}
			order = append(order, j.id)
		}
		people := map[string]map[string]bool{}
		for _, s := range a.states(p.AsOf) {
			if (!p.From.IsZero() && s.appliedOn.Before(p.From)) || s.appliedOn.After(until) {
				continue
			}
			r, ok := byJob[s.app.job]
			if !ok {
				r = &jobRow{a: a, id: s.app.job}
				byJob[s.app.job] = r
				order = append(order, s.app.job)
			}
			r.apps++
			who := s.app.person
			if who == "" {
				who = "#" + s.app.id
			}
			if people[s.app.job] == nil {
				people[s.app.job] = map[string]bool{}
			}
			if !people[s.app.job][who] {
				people[s.app.job][who] = true
				r.people++
			}
		}
		for _, id := range order {
			rows = append(rows, byJob[id])
		}
	}
	if p.Grain == "job" {
		tr := oTruth{cols: []string{"account_id", "job_id", "job_name", "department", "applications",
			"deduplicated_applications", "applicants_per_opening"}, key: []string{"account_id", "job_id"}}
		for _, r := range rows {
			if r.opening {
				tr.rows = append(tr.rows, record{"account_id": r.a.id, "job_id": r.id, "job_name": r.name, "department": r.dept,
					"applications": r.apps, "deduplicated_applications": r.people, "applicants_per_opening": float64(r.apps)})
			}
		}
		return tr
	}
	keys := dimsFor(p.Grain)
	gs := newGroups()
	for _, r := range rows {
		g := gs.get(record{"account_id": r.a.id, "department": r.dept}, keys)
		if r.opening {
			g.n["openings"]++
			g.n["apps"] += r.apps
			g.n["people"] += r.people
		} else {
			g.n["unmatched"] += r.apps
		}
	}
	tr := oTruth{cols: append(slices.Clone(keys), "openings", "applications", "deduplicated_applications",
		"applicants_per_opening", "unmatched_applications"), key: keys}
	gs.each(func(g *group) {
		if g.n["openings"] == 0 && g.n["unmatched"] == 0 {
			return
		}
		r := record{"openings": g.n["openings"], "applications": g.n["apps"], "deduplicated_applications": g.n["people"],
			"applicants_per_opening": ratio(g.n["apps"], g.n["openings"]), "unmatched_applications": g.n["unmatched"]}
		tr.add(r, g, keys)
	})
	return tr
}

func (w *oWorld) hiringVelocity(p Params) oTruth {
	tr := oTruth{cols: []string{"account_id", "period_start", "period_end", "covered_from", "covered_to", "partial", "hires"},
		key: []string{"account_id", "period_start"}}
	trunc := func(d time.Time) time.Time {
		if p.Grain == "week" {
			return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		}
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	next := func(d time.Time) time.Time {
		if p.Grain == "week" {
			return d.AddDate(0, 0, 7)
		}
		return d.AddDate(0, 1, 0)
	}
	for _, a := range w.accountsFor(p) {
		count := map[time.Time]int64{}
		var first time.Time
		for _, s := range a.states(p.AsOf) {
			if !s.hired || !inPeriod(s.hiredOn, p) {
				continue
			}
			count[trunc(s.hiredOn)]++
			if first.IsZero() || s.hiredOn.Before(first) {
				first = s.hiredOn
			}
		}
		lo, hi := p.From, p.AsOf
		if lo.IsZero() && !first.IsZero() {
			lo = trunc(first)
		}
		if !p.To.IsZero() && p.To.Before(hi) {
			hi = p.To
		}
		if lo.IsZero() || lo.After(hi) {
			continue
		}
		for start := trunc(lo); !start.After(trunc(hi)); start = next(start) {
			end := next(start).AddDate(0, 0, -1)
			from, to := start, end
			if lo.After(from) {
				from = lo
			}
			if hi.Before(to) {
				to = hi
			}
			tr.rows = append(tr.rows, record{"account_id": a.id, "period_start": dateVal(start), "period_end": dateVal(end),
				"covered_from": dateVal(from), "covered_to": dateVal(to), "partial": !from.Equal(start) || !to.Equal(end),
				"hires": count[start]})
		}
	}
	return tr
}

var declinedRE = regexp.MustCompile(`declin|withdr|no[ -]?show|reneg`)

func (w *oWorld) offerAcceptance(p Params) oTruth {
	keys := dimsFor(p.Grain)
	gs := newGroups()
	w.eachState(p, func(a *oAccount, s *appState) {
		if s.offeredAt.IsZero() || !inPeriod(dateOf(s.offeredAt, a.loc), p) {
			return
		}
		name, _ := s.stage.(string)
		outcome := "pending"
		switch {
		case s.hired:
			outcome = "accepted"
		case s.funnel == "withdrawn" ||
			(s.funnel == "rejected" && declinedRE.MatchString(strings.ToLower(name+" "+s.app.disposition))):
			outcome = "declined"
		case s.funnel == "rejected":
			outcome = "rescinded"
		}
		g := gs.get(record{"account_id": a.id, "department": a.jobDept(s.app.job)}, keys)
		g.n["offers"]++
		g.n[outcome]++
	})
	tr := oTruth{cols: append(slices.Clone(keys), "offers", "accepted", "declined", "rescinded", "pending",
		"acceptance_rate", "candidate_acceptance_rate", "offers_per_acceptance"), key: keys}
	gs.each(func(g *group) {
		n := g.n
		r := record{"offers": n["offers"], "accepted": n["accepted"], "declined": n["declined"], "rescinded": n["rescinded"],
			"pending": n["pending"], "acceptance_rate": ratio(n["accepted"], n["offers"]),
			"candidate_acceptance_rate": ratio(n["accepted"], n["accepted"]+n["declined"]),
			"offers_per_acceptance":     ratio(n["offers"], n["accepted"])}
		tr.add(r, g, keys)
	})
	return tr
}

func (w *oWorld) openJobsAging(p Params) oTruth {
	tr := oTruth{cols: []string{"account_id", "job_id", "job_name", "department", "location", "status", "opened_on", "age_days",
		"age_bucket", "applications", "last_applied_on", "hires"}, key: []string{"account_id", "job_id"}}
	for _, a := range w.accountsFor(p) {
		states := a.states(p.AsOf)
		for _, j := range a.jobs {
			st := j.state(a.loc, p.AsOf)
			if !a.liveAt(j.deleted, p.AsOf) || (st != "open" && st != "on_hold") {
				continue
			}
			o := j.openedOn(a.loc)
			age := daysBetween(o, p.AsOf)
			bucket := "181+"
			for _, b := range []struct {
				max  int64
				name string
			}{{30, "0-30"}, {60, "31-60"}, {90, "61-90"}, {180, "91-180"}} {
				if age <= b.max {
					bucket = b.name
					break
				}
			}
			var apps, hires int64
			var last time.Time
			for _, s := range states {
				if s.app.job != j.id {
					continue
				}
				apps++
				if s.appliedAt.After(last) {
					last = s.appliedAt
				}
				if s.hired && !s.hiredOn.Before(o) {
					hires++
				}
			}
			var lastOn any
			if !last.IsZero() {
				lastOn = dateVal(dateOf(last, a.loc))
			}
			tr.rows = append(tr.rows, record{"account_id": a.id, "job_id": j.id, "job_name": j.name, "department": blankNull(j.dept),
				"location": blankNull(j.location), "status": st, "opened_on": dateVal(o), "age_days": age, "age_bucket": bucket,
				"applications": apps, "last_applied_on": lastOn, "hires": hires})
		}
	}
	return tr
}

func (w *oWorld) unmappedStages(p Params) oTruth {
	keys := []string{"account_id", "stage"}
	gs := newGroups()
	for _, a := range w.accountsFor(p) {
		for _, s := range a.states(p.AsOf) {
			if name, ok := s.stage.(string); ok && s.funnel == "" && strings.TrimSpace(name) != "" {
				gs.get(record{"account_id": a.id, "stage": name}, keys).n["apps"]++
			}
		}
		for _, c := range a.apps {
			for _, e := range c.events {
				if e.funnel != "" || strings.TrimSpace(e.stage) == "" || dateOf(e.at, a.loc).After(p.AsOf) {
					continue
				}
				g := gs.get(record{"account_id": a.id, "stage": e.stage}, keys)
				g.n["events"]++
				if f, ok := g.dims["first"].(time.Time); !ok || e.at.Before(f) {
					g.dims["first"] = e.at
				}
				if l, ok := g.dims["last"].(time.Time); !ok || e.at.After(l) {
					g.dims["last"] = e.at
				}
			}
		}
	}
	tr := oTruth{cols: []string{"account_id", "stage", "applications", "events", "first_seen_at", "last_seen_at"}, key: keys}
	gs.each(func(g *group) {
		r := record{"account_id": g.dims["account_id"], "stage": g.dims["stage"], "applications": g.n["apps"],
			"events": g.n["events"], "first_seen_at": nil, "last_seen_at": nil}
		if f, ok := g.dims["first"].(time.Time); ok {
			r["first_seen_at"], r["last_seen_at"] = f.UTC(), g.dims["last"].(time.Time).UTC()
		}
		tr.rows = append(tr.rows, r)
	})
	return tr
}

func (w *oWorld) dataFreshness(p Params) oTruth {
	tr := oTruth{cols: []string{"account_id", "last_success_at", "lag_hours", "last_complete_scan_at", "last_run_status",
		"last_run_at", "last_error", "jobs", "candidates", "stage_events", "attachments", "hires"}, key: []string{"account_id"}}
	for _, a := range w.accountsFor(p) {
		// The first instant after as_of in the account's zone.
		y, m, d := p.AsOf.AddDate(0, 0, 1).Date()
		end := time.Date(y, m, d, 0, 0, 0, 0, a.loc)
		r := record{"account_id": a.id, "last_success_at": nil, "lag_hours": nil, "last_complete_scan_at": nil,
			"last_run_status": nil, "last_run_at": nil, "last_error": nil, "attachments": int64(0), "hires": int64(0)}
		var lastStart, lastSuccess, lastComplete time.Time
		for _, run := range w.runs {
			if run.account != a.id || !run.started.Before(end) {
				continue
			}
			if run.started.After(lastStart) {
				lastStart = run.started
				r["last_run_status"], r["last_run_at"], r["last_error"] = run.status, run.started.UTC(), null(run.errText)
			}
			if run.status == "succeeded" && run.finished.Before(end) {
				if run.finished.After(lastSuccess) {
					lastSuccess = run.finished
				}
				if run.complete && run.finished.After(lastComplete) {
					lastComplete = run.finished
				}
			}
		}
		if !lastSuccess.IsZero() {
			r["last_success_at"] = lastSuccess.UTC()
			r["lag_hours"] = math.Round(end.Sub(lastSuccess).Hours()*100) / 100
		}
		if !lastComplete.IsZero() {
			r["last_complete_scan_at"] = lastComplete.UTC()
		}
		var jobs, cands, events int64
		for _, j := range a.jobs {
			if j.firstSeen.Before(end) && (j.deleted.IsZero() || !j.deleted.Before(end)) {
				jobs++
			}
		}
		for _, c := range a.apps {
			if c.firstSeen.Before(end) && (c.deleted.IsZero() || !c.deleted.Before(end)) {
				cands++
			}
			for _, e := range c.events {
				if e.at.Before(end) {
					events++
				}
			}
		}
		r["jobs"], r["candidates"], r["stage_events"] = jobs, cands, events
		tr.rows = append(tr.rows, r)
	}
	sort.SliceStable(tr.rows, func(i, j int) bool { return tr.rows[i]["account_id"].(string) < tr.rows[j]["account_id"].(string) })
	return tr
}
