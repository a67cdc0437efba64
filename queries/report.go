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
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Parse(reportHTML))

// Report limits: charts show the largest groups, tables keep every row but
// the open-jobs list, which keeps the oldest.
const (
	reportMaxBars    = 15
	reportMaxMonths  = 36
	reportMaxOldJobs = 25
)

// Report writes one self-contained HTML page of the main hiring metrics
// for p: the funnel, time to fill by department, hires per month, source of
// hire and the pipeline by stage, each as an inline SVG chart with the table
// behind it, plus the oldest open jobs and data freshness. The page loads
// nothing (no script, font, image or stylesheet URL), escapes all data
// through html/template, fits a laptop screen and prints cleanly. Each
// metric receives only the parameters it takes. Report does not close w.
func Report(ctx context.Context, db *sql.DB, p Params, w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	get := func(name, grain string) (*Result, error) {
		m, err := Lookup(name)
		if err != nil {
			return nil, err
		}
		q := p.forMetric(m)
		q.Grain = grain
		return Run(ctx, db, m, q)
	}
	// Each metric at the one grain its section shows.
	parts := []struct{ name, grain string }{{"funnel_conversion", "account"}, {"time_to_fill", "department"},
		{"hiring_velocity", "month"}, {"source_of_hire", ""}, {"pipeline_snapshot", ""}, {"open_jobs_aging", ""},
		{"offer_acceptance", "account"}, {"time_to_hire", "source"}, {"data_freshness", ""}}
	res := map[string]*Result{}
	for _, part := range parts {
		r, err := get(part.name, part.grain)
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		res[part.name] = r
	}
	page := buildPage(p, res, time.Now().UTC())
	if err := reportTemplate.Execute(w, page); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// page is what report.html.tmpl renders.
type page struct {
	Title, Scope, Generated string
	Cards                   []card
	Sections                []section
}

type card struct{ Label, Value, Note string }

// section is one heading with an optional chart and the table behind it.
type section struct {
	ID, Title, Note string
	Chart           *chart
	WantsChart      bool // show "no data" when Chart is nil
	Table           table
}

// table is a formatted slice of a Result; Numeric marks right-aligned columns.
type table struct {
	Columns []string
	Numeric []bool
	Rows    [][]string
	More    int // rows left out
}

func buildPage(p Params, res map[string]*Result, now time.Time) page {
	multi := len(accounts(res["funnel_conversion"])) > 1
	pg := page{Title: "Hiring report", Scope: scope(p), Generated: now.Format("2006-01-02 15:04 UTC")}
	pg.Cards = cards(res)

	// Funnel: account rows summed over accounts, per stage.
	funnel := sumBy(res["funnel_conversion"], record{}, "funnel_stage", "reached")
	var fitems []chartItem
	for i, s := range []string{"applied", "screened", "interviewed", "offered", "hired"} {
		it := chartItem{Label: s, Value: funnel.get(s), Text: formatNumber(funnel.get(s))}
		if i > 0 && funnel.get(fitems[i-1].Label) > 0 {
			it.Text += " · " + formatPercent(funnel.get(s)/funnel.get(fitems[i-1].Label)) + " of " + fitems[i-1].Label
		}
		fitems = append(fitems, it)
	}
	pg.Sections = append(pg.Sections, section{ID: "funnel", WantsChart: true, Title: "Funnel",
		Note: "Applications reaching each stage; a later stage counts as reaching the earlier ones.",
		Chart: chartIf(funnel.get("applied") > 0, func() chart {
			return hbarChart("funnel", "Applications reaching each funnel stage", "", fitems)
		}),
		Table: tableOf(res["funnel_conversion"], record{}, 0,
			"account_id", "funnel_stage", "reached", "conversion", "overall_conversion")})

	// Time to fill by department: medians cannot be added, so one bar per
	// account and department, the most filled first.
	ttf := records(res["time_to_fill"])
	slices.SortStableFunc(ttf, func(a, b record) int { return cmp.Compare(b["first_hires"].(int64), a["first_hires"].(int64)) })
	var titems []chartItem
	for _, r := range ttf {
		med, ok := r["median_days_to_first_hire"].(float64)
		if !ok || len(titems) == reportMaxBars {
			continue
		}
		p75, _ := r["p75_days_to_first_hire"].(float64)
		label := orNone(r["department"])
		if multi {
			label = fmt.Sprint(r["account_id"]) + " · " + label
		}
		titems = append(titems, chartItem{Label: label, Value: med, Marker: p75,
			Text: fmt.Sprintf("%s d (p75 %s, %d jobs)", formatNumber(med), formatNumber(p75), r["first_hires"])})
	}
	pg.Sections = append(pg.Sections, section{ID: "time-to-fill", WantsChart: true, Title: "Time to fill by department",
		Note: "Median calendar days from a job's opening to its first hire; the tick marks the 75th percentile. " +
			"Days per hire cover every hire of multi-hire jobs. Jobs open or on hold are counted, not averaged in.",
		Chart: chartOrNil(titems, func() chart { return hbarChart("time-to-fill", "Median days to first hire by department", "", titems) }),
		Table: tableOf(res["time_to_fill"], record{}, 0, "account_id", "department", "first_hires",
			"median_days_to_first_hire", "p75_days_to_first_hire", "hires", "median_days_per_hire", "open_jobs", "on_hold_jobs")})

	// Hires per month, summed over accounts; the chart shows the latest months.
	months := sumBy(res["hiring_velocity"], record{}, "period_start", "hires")
	var mitems []chartItem
	for _, k := range monthRange(months.keys) {
		mitems = append(mitems, chartItem{Label: k, Value: months.get(k), Text: formatNumber(months.get(k))})
	}
	mitems = mitems[max(0, len(mitems)-reportMaxMonths):]
	pg.Sections = append(pg.Sections, section{ID: "hires-per-month", WantsChart: true, Title: "Hires per month",
		Note:  "A month cut by the period or by the as-of date is marked partial.",
		Chart: chartOrNil(mitems, func() chart { return vbarChart("hires-per-month", "Hires per month", "", mitems) }),
		Table: tableOf(res["hiring_velocity"], record{}, 0, "account_id", "period_start", "covered_to", "partial", "hires")})

	// Source of hire: hires per source over all accounts.
	src := sumBy(res["source_of_hire"], record{}, "source", "hires")
	total := 0.0
	for _, k := range src.keys {
		total += src.get(k)
	}
	var sitems []chartItem
	for _, k := range src.sorted() {
		if len(sitems) < reportMaxBars {
			sitems = append(sitems, chartItem{Label: k, Value: src.get(k),
				Text: formatNumber(src.get(k)) + " · " + formatPercent(src.get(k)/max(total, 1))})
		}
	}
	pg.Sections = append(pg.Sections, section{ID: "source-of-hire", WantsChart: true, Title: "Source of hire",
		Note:  "Hires made in the period by the application's source.",
		Chart: chartOrNil(sitems, func() chart { return hbarChart("source-of-hire", "Hires by source", "", sitems) }),
		Table: tableOf(res["source_of_hire"], record{}, 0, "account_id", "source", "hires", "share_of_hires", "median_days_to_hire")})

	// Pipeline by stage, summed over accounts.
	pipe := sumBy(res["pipeline_snapshot"], record{}, "funnel_stage", "open_applications")
	var pitems []chartItem
	for _, k := range pipe.keys {
		label := k
		if label == "(none)" {
			label = "(unmapped)"
		}
		pitems = append(pitems, chartItem{Label: label, Value: pipe.get(k), Text: formatNumber(pipe.get(k))})
	}
	pg.Sections = append(pg.Sections, section{ID: "pipeline", WantsChart: true, Title: "Pipeline by stage",
		Note:  "Active applications on open jobs by the stage they were in at the as-of date.",
		Chart: chartOrNil(pitems, func() chart { return hbarChart("pipeline", "Open applications by stage", "", pitems) }),
		Table: tableOf(res["pipeline_snapshot"], record{}, 0, "account_id", "funnel_stage", "open_applications",
			"median_days_in_stage", "median_days_since_applied")})

	pg.Sections = append(pg.Sections,
		section{ID: "offers", Title: "Offer acceptance",
			Note: "Acceptance rate: accepted / offers extended (SHRM). Candidate acceptance rate: accepted / (accepted + declined by the candidate); offers the employer rescinded and pending offers are left out of it.",
			Table: tableOf(res["offer_acceptance"], record{}, 0, "account_id", "offers",
				"accepted", "declined", "rescinded", "pending", "acceptance_rate", "candidate_acceptance_rate")},
		section{ID: "time-to-hire", Title: "Time to hire by source", Note: "Calendar days from application to hire.",
			Table: tableOf(res["time_to_hire"], record{}, 0, "account_id", "source", "hires",
				"median_days", "p75_days")},
		section{ID: "open-jobs", Title: "Oldest open jobs", Note: "Open by the job's status, hires or not; jobs on hold are listed after them.",
			Table: tableOf(res["open_jobs_aging"], record{}, reportMaxOldJobs, "account_id", "job_name",
				"department", "location", "status", "opened_on", "age_days", "applications", "hires")},
		section{ID: "freshness", Title: "Data freshness",
			Table: tableOf(res["data_freshness"], record{}, 0, "account_id", "last_success_at", "lag_hours",
				"last_run_status", "jobs", "candidates", "stage_events")},
	)
	return pg
}

// cards are the headline numbers, all sums, so they hold across accounts.
func cards(res map[string]*Result) []card {
	funnel := sumBy(res["funnel_conversion"], record{}, "funnel_stage", "reached")
	cs := []card{
		{Label: "Applications", Value: formatNumber(funnel.get("applied"))},
		{Label: "Hires", Value: formatNumber(funnel.get("hired"))},
		{Label: "Open jobs", Value: formatNumber(float64(len(where(res["open_jobs_aging"], record{"status": "open"}))))},
	}
	if acc, n := total(res["offer_acceptance"], "accepted"), total(res["offer_acceptance"], "offers"); n > 0 {
		cs = append(cs, card{Label: "Offer acceptance", Value: formatPercent(acc / n),
			Note: fmt.Sprintf("%s of %s offers extended", formatNumber(acc), formatNumber(n))})
	}
	return cs
}

func scope(p Params) string {
	parts := []string{"all accounts"}
	if p.Account != "" {
		parts[0] = "account " + p.Account
	}
	switch {
	case !p.From.IsZero() && !p.To.IsZero():
		parts = append(parts, day(p.From)+" to "+day(p.To))
	case !p.From.IsZero():
		parts = append(parts, "from "+day(p.From))
	case !p.To.IsZero():
		parts = append(parts, "to "+day(p.To))
	default:
		parts = append(parts, "all time")
	}
	asOf := "today"
	if !p.AsOf.IsZero() {
		asOf = day(p.AsOf)
	}
	return strings.Join(append(parts, "as of "+asOf), ", ")
}

// sums adds a value column up by a key column, keeping first-seen key order.
type sums struct {
	keys []string
	vals map[string]float64
}

func (s sums) get(k string) float64 { return s.vals[k] }

// sorted returns the keys by value, largest first.
func (s sums) sorted() []string {
	ks := slices.Clone(s.keys)
	slices.SortStableFunc(ks, func(a, b string) int { return cmp.Compare(s.vals[b], s.vals[a]) })
	return ks
}

func sumBy(r *Result, filter record, key, value string) sums {
	s := sums{vals: map[string]float64{}}
	for _, rec := range where(r, filter) {
		k := orNone(rec[key])
		if t, ok := rec[key].(time.Time); ok {
			k = t.Format("2006-01")
		}
		if _, ok := s.vals[k]; !ok {
			s.keys = append(s.keys, k)
		}
		v, _ := number(rec[value])
		s.vals[k] += v
	}
	return s
}

// total adds up a numeric column over every row.
func total(r *Result, col string) float64 {
	sum := 0.0
	for _, rec := range records(r) {
		v, _ := number(rec[col])
		sum += v
	}
	return sum
}

// tableOf formats the columns of the rows matching filter, keeping at most
// limit rows (0 = all).
func tableOf(r *Result, filter record, limit int, cols ...string) table {
	t := table{Columns: cols}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = slices.Index(r.Columns, c)
		t.Numeric = append(t.Numeric, idx[i] >= 0 && (kindOf(r.Types[idx[i]]) == kindInt || kindOf(r.Types[idx[i]]) == kindFloat))
	}
	for _, rec := range where(r, filter) {
		if limit > 0 && len(t.Rows) == limit {
			t.More++
			continue
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			if idx[i] >= 0 {
				row[i] = text(rec[c], kindOf(r.Types[idx[i]]), 2)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// monthRange returns every month from the earliest to the latest of keys
// ("2006-01"): accounts may cover different spans, each zero-filled only
// within its own.
func monthRange(keys []string) []string {
	var ts []time.Time
	for _, k := range keys {
		if t, err := time.Parse("2006-01", k); err == nil {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	lo, hi := slices.MinFunc(ts, time.Time.Compare), slices.MaxFunc(ts, time.Time.Compare)
	var out []string
	for t := lo; !t.After(hi); t = t.AddDate(0, 1, 0) {
		out = append(out, t.Format("2006-01"))
	}
	return out
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

// chartOrNil draws the chart only when there is something to draw.
func chartOrNil(items []chartItem, f func() chart) *chart { return chartIf(len(items) > 0, f) }

func chartIf(ok bool, f func() chart) *chart {
	if !ok {
		return nil
	}
	return ptr(f())
}

func ptr[T any](v T) *T { return &v }
