package queries

import (
	"cmp"
	"context"
	"database/sql"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sync"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Parse(reportHTML))

// leaversSQL is the report's own query behind "Why candidates leave"; it
// follows the metric file format but is not a published metric.
//
//go:embed report/leavers.sql
var leaversSQL string

var leavers = sync.OnceValue(func() Metric {
	m, err := parseMetric("leavers", leaversSQL)
	if err != nil {
		panic(err)
	}
	return m
})

// Report defaults and limits: charts show the largest groups, trends the
// last months, the open-jobs table the oldest jobs.
const (
	// DefaultReportDays is the period a report covers when Params has no
	// From: the days up to To (else AsOf, else today).
	DefaultReportDays = 90
	// DefaultStaleAfter is how old the last successful sync may be before
	// the report says the data is stale: three times the default hourly
	// sync schedule, so one failed run is no alarm and two are.
	DefaultStaleAfter = 3 * time.Hour

	reportMaxBars     = 15
	reportTrendMonths = 12
	reportMaxOldJobs  = 25
)

// ReportOptions adjust Report. The zero value uses the defaults.
type ReportOptions struct {
	// StaleAfter is how old the last successful sync of an account may be
	// before the report says so at the top (DefaultStaleAfter when 0).
	StaleAfter time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Report writes one self-contained HTML page of the main hiring metrics
// for p's accounts over a period: p.From to p.To, by default the
// DefaultReportDays days up to p.To (else p.AsOf, else today). It leads
// with headline tiles, each compared with the previous period of the same
// length, then trends per month, the funnel, time in stage, why
// candidates leave, time to fill, source of hire, the pipeline and the
// oldest open jobs, each chart an inline SVG with its table collapsed
// under it. A failed or stale sync (see ReportOptions.StaleAfter) is said
// at the top. With several accounts there is one section per account
// under the combined tiles. The page loads nothing (no script, font,
// image or stylesheet URL) and escapes all data through html/template.
// Report does not close w.
func Report(ctx context.Context, db *sql.DB, p Params, o ReportOptions, w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	cur, prev := reportPeriods(p, now().UTC())
	d, err := gather(ctx, db, cur, prev)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	pg := buildPage(p, cur, prev, d, cmp.Or(o.StaleAfter, DefaultStaleAfter), now().UTC())
	if err := reportTemplate.Execute(w, pg); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// reportPeriods returns the period the report covers and the one before
// it, of the same length. Each is computed as of its end: the current one
// as of p.AsOf (else p.To, else today), the previous one as of its last day.
func reportPeriods(p Params, now time.Time) (cur, prev Params) {
	end := p.To
	if end.IsZero() {
		end = p.AsOf
	}
	if end.IsZero() {
		end = now
	}
	end = calendarDay(end)
	start := calendarDay(p.From)
	if p.From.IsZero() {
		start = end.AddDate(0, 0, 1-DefaultReportDays)
	}
	cur = Params{Account: p.Account, From: start, To: end, AsOf: p.AsOf}
	if cur.AsOf.IsZero() && !p.To.IsZero() {
		cur.AsOf = end
	}
	days := dayCount(start, end) + 1
	prevEnd := start.AddDate(0, 0, -1)
	prev = Params{Account: p.Account, From: prevEnd.AddDate(0, 0, 1-days), To: prevEnd, AsOf: prevEnd}
	return cur, prev
}

// calendarDay is t's calendar date, at midnight UTC.
func calendarDay(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func dayCount(a, b time.Time) int { return int(b.Sub(a).Hours()/24 + 0.5) }

// periodData are the results a period's tiles are computed from.
type periodData struct {
	from, to time.Time
	tth      *Result // time_to_hire by account: hires, median days
	ttfJobs  *Result // time_to_fill by job: days to first hire
	openJobs *Result // open_jobs_aging at the period's end
	pipeline *Result // pipeline_snapshot at the period's end
	offers   *Result // offer_acceptance by account
}

// reportData is every result the report shows.
type reportData struct {
	cur, prev                                            periodData
	funnel, ttfDept, velocity, sources, stages, goneRows *Result
	freshness, ttfTrend                                  *Result
	tthTrend                                             []monthResult
	trendFrom                                            time.Time
	zones                                                map[string]*time.Location
	accounts                                             []string
}

type monthResult struct {
	month time.Time
	res   *Result
}

// gather runs each metric the report needs, at the grain it shows.
func gather(ctx context.Context, db *sql.DB, cur, prev Params) (*reportData, error) {
	run := func(name, grain string, q Params) (*Result, error) {
		m, err := Lookup(name)
		if name == "leavers" {
			m, err = leavers(), nil
		}
		if err != nil {
			return nil, err
		}
		q = q.forMetric(m)
		q.Grain = grain
		return Run(ctx, db, m, q)
	}
	var d reportData
	var err error
	period := func(q Params) (periodData, error) {
		pd := periodData{from: q.From, to: q.To}
		steps := []struct {
			dst         **Result
			name, grain string
		}{{&pd.tth, "time_to_hire", "account"}, {&pd.ttfJobs, "time_to_fill", "job"},
			{&pd.openJobs, "open_jobs_aging", ""}, {&pd.pipeline, "pipeline_snapshot", ""},
			{&pd.offers, "offer_acceptance", "account"}}
		for _, s := range steps {
			if *s.dst, err = run(s.name, s.grain, q); err != nil {
				return pd, err
			}
		}
		return pd, nil
	}
	if d.cur, err = period(cur); err != nil {
		return nil, err
	}
	if d.prev, err = period(prev); err != nil {
		return nil, err
	}
	// Trends: the last reportTrendMonths months up to the period's end.
	d.trendFrom = time.Date(cur.To.Year(), cur.To.Month()-reportTrendMonths+1, 1, 0, 0, 0, 0, time.UTC)
	trend := cur
	trend.From = d.trendFrom
	steps := []struct {
		dst         **Result
		name, grain string
		q           Params
	}{{&d.funnel, "funnel_conversion", "account", cur}, {&d.ttfDept, "time_to_fill", "department", cur},
		{&d.velocity, "hiring_velocity", "month", trend}, {&d.sources, "source_of_hire", "", cur},
		{&d.stages, "stage_duration", "funnel_stage", cur}, {&d.goneRows, "leavers", "", cur},
		{&d.freshness, "data_freshness", "", cur}, {&d.ttfTrend, "time_to_fill", "job", trend}}
	for _, s := range steps {
		if *s.dst, err = run(s.name, s.grain, s.q); err != nil {
			return nil, err
		}
	}
	// Medians of time to hire cannot be rebuilt from other months: one run
	// per month.
	for m := d.trendFrom; !m.After(cur.To); m = m.AddDate(0, 1, 0) {
		q := cur
		q.From, q.To = m, minTime(m.AddDate(0, 1, -1), cur.To)
		res, err := run("time_to_hire", "account", q)
		if err != nil {
			return nil, err
		}
		d.tthTrend = append(d.tthTrend, monthResult{m, res})
	}
	if d.zones, err = accountZones(ctx, db); err != nil {
		return nil, err
	}
	for _, r := range []*Result{d.freshness, d.funnel, d.cur.openJobs} {
		for _, a := range accounts(r) {
			if !slices.Contains(d.accounts, a) && (cur.Account == "" || a == cur.Account) {
				d.accounts = append(d.accounts, a)
			}
		}
	}
	slices.Sort(d.accounts)
	return &d, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// accountZones reads each configured account's time zone.
func accountZones(ctx context.Context, db *sql.DB) (map[string]*time.Location, error) {
	rows, err := db.QueryContext(ctx, `SELECT account_id, timezone FROM accounts`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	zones := map[string]*time.Location{}
	for rows.Next() {
		var id, tz string
		if err := rows.Scan(&id, &tz); err != nil {
			return nil, err
		}
		if loc, err := time.LoadLocation(tz); err == nil {
			zones[id] = loc
		}
	}
	return zones, rows.Err()
}

// page is what report.html.tmpl renders.
type page struct {
	Title, Scope, Generated string
	Alerts                  []string
	AlertTitle, AlertNote   string
	Tiles                   []tile
	TilesNote               string
	Multi                   bool
	Nav                     []link
	Accounts                []accountPart
}

type link struct{ ID, Title string }

// accountPart is one account's sections (the only one, unnamed, for a
// one-account report or an empty warehouse).
type accountPart struct {
	ID, Name string
	Tiles    []tile
	Sections []section
}

// tile is a headline number with its change against the previous period;
// Class is good or bad when the change is an improvement or not.
type tile struct{ Label, Value, Change, Class, Note string }

// section is one heading with its charts and the table behind them.
type section struct {
	ID, Title, Note string
	Charts          []chart
	WantsChart      bool // show "no data" when there is no chart
	Table           table
}

// table is formatted rows; Numeric marks right-aligned columns. Open
// shows it unfolded (a table with no chart above it).
type table struct {
	Columns []string
	Numeric []bool
	Rows    [][]string
	Summary string
	Open    bool
}

func buildPage(p Params, cur, prev Params, d *reportData, staleAfter time.Duration, now time.Time) page {
	days := dayCount(cur.From, cur.To) + 1
	pg := page{Title: "Hiring report", Scope: scope(p, cur, d.accounts), Generated: now.Format(humanTime),
		Multi: len(d.accounts) > 1}
	pg.Alerts = alerts(d, staleAfter)
	if len(pg.Alerts) > 0 {
		pg.AlertTitle = "The data may be out of date"
		pg.AlertNote = fmt.Sprintf("Figures below are as of the last successful sync. Data counts as stale when the last "+
			"successful sync is more than %s old.", humanDuration(staleAfter))
	}
	pg.Tiles = tiles(d, "", days)
	pg.TilesNote = fmt.Sprintf("Changes compare %s – %s with the previous %s, %s – %s.",
		cur.From.Format(humanDay), cur.To.Format(humanDay), plural(days, "day"), prev.From.Format(humanDay), prev.To.Format(humanDay))
	accs := d.accounts
	if len(accs) == 0 {
		accs = []string{""}
	}
	for _, acc := range accs {
		part := accountPart{Name: acc, ID: "account-" + acc}
		prefix := ""
		if pg.Multi {
			prefix = acc + "-"
			part.Tiles = tiles(d, acc, days)
			pg.Nav = append(pg.Nav, link{part.ID, acc})
		}
		part.Sections = sections(d, acc, prefix, cur)
		if !pg.Multi {
			for _, s := range part.Sections {
				pg.Nav = append(pg.Nav, link{s.ID, s.Title})
			}
		}
		pg.Accounts = append(pg.Accounts, part)
	}
	return pg
}

// scope describes what the report covers.
func scope(p Params, cur Params, accs []string) string {
	n := len(accs)
	who := "all accounts"
	switch {
	case p.Account != "":
		who = "account " + p.Account
	case len(accs) == 1:
		who = "account " + accs[0]
	case n > 1:
		who = fmt.Sprintf("all %d accounts", n)
	}
	when := cur.From.Format(humanDay) + " – " + cur.To.Format(humanDay)
	if p.From.IsZero() {
		when += fmt.Sprintf(" (last %d days)", DefaultReportDays)
	}
	asOf := "today"
	if !cur.AsOf.IsZero() {
		asOf = cur.AsOf.Format(humanDay)
	}
	return who + ", " + when + ", as of " + asOf
}

// alerts lists the accounts whose last sync failed, that never synced, or
// whose last success is older than staleAfter.
func alerts(d *reportData, staleAfter time.Duration) []string {
	var out []string
	for _, r := range records(d.freshness) {
		acc, _ := r["account_id"].(string)
		if !slices.Contains(d.accounts, acc) {
			continue
		}
		loc := d.zones[acc]
		last, ok := r["last_success_at"].(time.Time)
		switch {
		case !ok:
			out = append(out, acc+": never synced successfully")
		default:
			if lag, ok := number(r["lag_hours"]); ok && lag > staleAfter.Hours() {
				out = append(out, fmt.Sprintf("%s: stale, the last successful sync was %s, %s ago", acc,
					humanInstant(last, loc), humanDuration(time.Duration(lag*float64(time.Hour)))))
			}
		}
		if r["last_run_status"] == "failed" {
			msg := acc + ": the last sync failed"
			if at, ok := r["last_run_at"].(time.Time); ok {
				msg += " (started " + humanInstant(at, loc) + ")"
			}
			if e, ok := r["last_error"].(string); ok && e != "" {
				msg += ": " + e
			}
			out = append(out, msg)
		}
	}
	return out
}

// humanDuration writes a duration in whole hours or days: "3 hours", "2 days".
func humanDuration(d time.Duration) string {
	if h := int(d.Hours() + 0.5); h < 48 {
		return plural(max(h, 1), "hour")
	}
	return plural(int(d.Hours()/24+0.5), "day")
}

// tiles are the headline numbers of one account ("" = all of them) with
// their change against the previous period.
func tiles(d *reportData, acc string, days int) []tile {
	c, p := headline(d.cur, acc), headline(d.prev, acc)
	ago := fmt.Sprintf("vs %s before", plural(days, "day"))
	dayTile := func(label string, cv, pv tileValue, note string) tile {
		t := tile{Label: label, Value: "–", Note: note}
		if !cv.ok {
			t.Note = "no hires in the period"
			return t
		}
		t.Value = formatDays(cv.v)
		if pv.ok {
			t.Change, t.Class = change(cv.v-pv.v, formatDays, true), better(pv.v-cv.v)
			t.Change += " " + ago
		}
		return t
	}
	countTile := func(label string, cv, pv float64, good int, note string) tile {
		t := tile{Label: label, Value: formatCount(cv), Note: note}
		t.Change = change(cv-pv, formatCount, false)
		if pv > 0 {
			t.Change += fmt.Sprintf(" (%+.0f %%)", (cv-pv)/pv*100)
		}
		t.Change += " " + ago
		t.Class = better(float64(good) * (cv - pv))
		return t
	}
	out := []tile{
		dayTile("Median time to fill", c.ttf, p.ttf, plural(c.filled, "job")+" filled; opening to first hire"),
		dayTile("Median time to hire", c.tth, p.tth, "application to hire"),
		countTile("Open jobs", c.open, p.open, 0, onHold(c.onHold)),
		countTile("Active applications", c.active, p.active, 0, "on open jobs"),
		countTile("Hires this period", c.hires, p.hires, 1, ""),
	}
	rate := tile{Label: "Offer acceptance", Value: "–", Note: "no offers in the period"}
	if c.offers > 0 {
		rate.Value = formatPercent(c.accepted / c.offers)
		rate.Note = fmt.Sprintf("%s of %s accepted", formatCount(c.accepted), plural(int(c.offers), "offer"))
		if p.offers > 0 {
			pts := (c.accepted/c.offers - p.accepted/p.offers) * 100
			rate.Change = change(pts, func(v float64) string { return formatNumber(v) + " pts" }, true) + " " + ago
			rate.Class = better(pts)
		}
	}
	if c.tthWeighted {
		out[1].Note = "hire-weighted across accounts"
	}
	return append(out, rate)
}

func onHold(n int) string {
	if n == 0 {
		return "none on hold"
	}
	return plural(n, "job") + " on hold, not counted"
}

// change writes a signed difference: "▲ 5 days", "▼ 12", "no change".
func change(diff float64, f func(float64) string, round bool) string {
	if round {
		diff = float64(int64(diff*10)) / 10
	}
	switch {
	case diff > 0:
		return "▲ " + f(diff)
	case diff < 0:
		return "▼ " + f(-diff)
	}
	return "no change"
}

// better is the tile class of an improvement of size gain.
func better(gain float64) string {
	switch {
	case gain > 0:
		return "good"
	case gain < 0:
		return "bad"
	}
	return ""
}

type tileValue struct {
	v  float64
	ok bool
}

type headlineValues struct {
	ttf, tth            tileValue
	filled, onHold      int
	open, active, hires float64
	offers, accepted    float64
	tthWeighted         bool
}

// headline computes the tile values of one period for acc ("" = all).
// Time to fill is the median over the jobs whose first hire falls in the
// period, exact across accounts; time to hire is the account's median, or
// across accounts the hire-weighted mean of their medians.
func headline(pd periodData, acc string) headlineValues {
	var h headlineValues
	only := forAccount(acc)
	var fill []float64
	for _, r := range where(pd.ttfJobs, only) {
		on, ok := r["first_hire_on"].(time.Time)
		v, okv := number(r["days_to_first_hire"])
		if ok && okv && !on.Before(pd.from) && !on.After(pd.to) {
			fill = append(fill, v)
		}
	}
	if len(fill) > 0 {
		h.ttf, h.filled = tileValue{median(fill), true}, len(fill)
	}
	rows := where(pd.tth, only)
	h.hires = sumCol(rows, "hires")
	if v, _, ok := weighted(rows); ok {
		h.tth, h.tthWeighted = tileValue{v, true}, len(rows) > 1
	}
	h.open = float64(len(where(pd.openJobs, forAccount(acc, "status", "open"))))
	h.onHold = len(where(pd.openJobs, forAccount(acc, "status", "on_hold")))
	h.active = sumCol(where(pd.pipeline, only), "open_applications")
	offers := where(pd.offers, only)
	h.offers, h.accepted = sumCol(offers, "offers"), sumCol(offers, "accepted")
	return h
}

// forAccount is a where key for account acc ("" = every account) and the
// column, value pairs kv.
func forAccount(acc string, kv ...string) record {
	r := record{}
	if acc != "" {
		r["account_id"] = acc
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i]] = kv[i+1]
	}
	return r
}

// median is the continuous median (as quantile_cont(0.5)).
func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func sumCol(rs []record, col string) float64 {
	sum := 0.0
	for _, r := range rs {
		v, _ := number(r[col])
		sum += v
	}
	return sum
}

// accounts lists the distinct account_id values of r.
func accounts(r *Result) []string {
	var out []string
	for _, rec := range records(r) {
		if a, ok := rec["account_id"].(string); ok && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// orNone labels NULL and empty groups.
func orNone(v any) string {
	if v == nil || v == "" {
		return "(none)"
	}
	return fmt.Sprint(v)
}

// byValue sorts chart items largest first.
func byValue(items []chartItem) []chartItem {
	slices.SortStableFunc(items, func(a, b chartItem) int { return cmp.Compare(b.Value, a.Value) })
	return items
}

// chartsOf returns the chart f draws, or none when there are no items.
func chartsOf(items []chartItem, f func() chart) []chart {
	if len(items) == 0 {
		return nil
	}
	return []chart{f()}
}
