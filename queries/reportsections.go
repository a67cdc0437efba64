package queries

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The report's sections for one account: charts first, each with the
// table behind it collapsed under it.

// trendWidth is the width of each of the two trend charts side by side.
const trendWidth = 520

// sections builds every section of account acc ("" = all accounts, for an
// empty warehouse); prefix keeps element ids unique across accounts.
func sections(d *reportData, acc, prefix string, cur Params) []section {
	only := forAccount(acc)
	loc := d.zones[acc]
	tbl := func(r *Result, rows []record, limit int, cols ...string) table {
		return tableOf(r, rows, limit, loc, cols...)
	}
	partialNote := ""
	if last := monthsFrom(d.trendFrom, cur.To); len(last) > 0 && !isMonthEnd(cur.To) {
		partialNote = fmt.Sprintf(" The lighter bar is %s, a month not over yet (to %s): partial, not a slump.",
			last[len(last)-1].Format("January"), cur.To.Format(humanDay))
	}
	var out []section

	// Trends: time to fill and time to hire per month.
	var fillItems, hireItems []chartItem
	fill := map[time.Time][]float64{}
	for _, r := range where(d.ttfTrend, only) {
		on, ok := r["first_hire_on"].(time.Time)
		v, okv := number(r["days_to_first_hire"])
		if ok && okv && !on.Before(d.trendFrom) && !on.After(cur.To) {
			m := time.Date(on.Year(), on.Month(), 1, 0, 0, 0, 0, time.UTC)
			fill[m] = append(fill[m], v)
		}
	}
	anyFill, anyHire := false, false
	for i, m := range monthsFrom(d.trendFrom, cur.To) {
		partial := m.Year() == cur.To.Year() && m.Month() == cur.To.Month() && !isMonthEnd(cur.To)
		fi := chartItem{Label: m.Format("Jan '06"), Partial: partial}
		if vs := fill[m]; len(vs) > 0 {
			fi.Value, fi.Text, anyFill = median(vs), formatCount(median(vs)), true
		}
		fillItems = append(fillItems, fi)
		hi := chartItem{Label: fi.Label, Partial: partial}
		if i < len(d.tthTrend) {
			if v, _, ok := weighted(where(d.tthTrend[i].res, only)); ok {
				hi.Value, hi.Text, anyHire = v, formatCount(v), true
			}
		}
		hireItems = append(hireItems, hi)
	}
	var trendCharts []chart
	if anyFill {
		trendCharts = append(trendCharts, vbarChartWidth("ttf-trend", "Median days to fill, by month of the job's first hire", "", fillItems, trendWidth))
		trendCharts[len(trendCharts)-1].Heading = "Time to fill (median days, opening to first hire)"
	}
	if anyHire {
		trendCharts = append(trendCharts, vbarChartWidth("tth-trend", "Median days to hire, by month of hire", "", hireItems, trendWidth))
		trendCharts[len(trendCharts)-1].Heading = "Time to hire (median days, application to hire)"
	}
	out = append(out, section{ID: prefix + "trends", Title: "Time to fill and time to hire per month", WantsChart: true,
		Note:   "Median calendar days per month; a month with no hire has no bar." + partialNote,
		Charts: trendCharts})

	// Hires per month.
	months := map[time.Time]*chartItem{}
	for _, r := range where(d.velocity, only) {
		m, ok := r["period_start"].(time.Time)
		if !ok {
			continue
		}
		it := months[m]
		if it == nil {
			it = &chartItem{Label: m.Format("Jan '06")}
			months[m] = it
		}
		v, _ := number(r["hires"])
		it.Value += v
		it.Partial = it.Partial || r["partial"] == true && m.Year() == cur.To.Year() && m.Month() == cur.To.Month()
	}
	var mitems []chartItem
	hired := 0.0
	for _, m := range monthsFrom(d.trendFrom, cur.To) {
		if it := months[m]; it != nil {
			it.Text = formatCount(it.Value)
			mitems = append(mitems, *it)
			hired += it.Value
		}
	}
	if hired == 0 {
		mitems = nil // no hire at all: nothing to draw
	}
	out = append(out, section{ID: prefix + "hires-per-month", Title: "Hires per month", WantsChart: true,
		Note:   "Hires by the month of the hire, standing at the as-of date." + partialNote,
		Charts: chartsOf(mitems, func() chart { return vbarChart("hires-per-month", "Hires per month", "", mitems) }),
		Table:  tbl(d.velocity, where(d.velocity, only), 0, "period_start", "covered_to", "partial", "hires")})

	// Funnel: in funnel order, which is also largest first.
	funnel := where(d.funnel, only)
	reached := map[string]float64{}
	for _, r := range funnel {
		v, _ := number(r["reached"])
		reached[orNone(r["funnel_stage"])] += v
	}
	var fitems []chartItem
	for i, s := range []string{"applied", "screened", "interviewed", "offered", "hired"} {
		it := chartItem{Label: s, Value: reached[s], Text: formatCount(reached[s])}
		if prev := fitems; i > 0 && reached[prev[i-1].Label] > 0 {
			it.Text += " · " + formatPercent(reached[s]/reached[prev[i-1].Label]) + " of " + prev[i-1].Label
		}
		fitems = append(fitems, it)
	}
	if reached["applied"] == 0 {
		fitems = nil
	}
	out = append(out, section{ID: prefix + "funnel", Title: "Funnel", WantsChart: true,
		Note:   "Applications received in the period reaching each stage; a later stage counts as reaching the earlier ones.",
		Charts: chartsOf(fitems, func() chart { return hbarChart("funnel", "Applications reaching each funnel stage", "", fitems) }),
		Table:  tbl(d.funnel, funnel, 0, "funnel_stage", "reached", "conversion", "overall_conversion")})

	// Where candidates get stuck: time in stage, slowest first.
	stages := where(d.stages, only)
	stItems := medianItems(stages, "median_days", "p90_days", func(r record) string { return stageLabel(r["funnel_stage"]) },
		func(med, p90 float64, _ record) string {
			return "median " + formatDays(med) + " · p90 " + formatDays(p90)
		})
	out = append(out, section{ID: prefix + "stage-duration", Title: "Where candidates get stuck", WantsChart: true,
		Note: "Calendar days spent in each funnel stage, for stages entered in the period: the bar is the median, " +
			"the tick the 90th percentile. Stints still open run to the as-of date.",
		Charts: chartsOf(stItems, func() chart { return hbarChart("stage-duration", "Days in each stage, median and p90", "", stItems) }),
		Table:  tbl(d.stages, stages, 0, "funnel_stage", "stints", "open_stints", "median_days", "p90_days", "mean_days")})

	// Why candidates leave: reject reasons and withdrawals.
	gone := where(d.goneRows, only)
	var goneItems []chartItem
	var rejected, withdrawn float64
	for _, r := range gone {
		v, _ := number(r["applications"])
		label := orNone(r["reason"])
		if r["outcome"] == "withdrawn" {
			withdrawn += v
			label += " (withdrew)"
		} else {
			rejected += v
		}
		goneItems = append(goneItems, chartItem{Label: label, Value: v})
	}
	goneItems = byValue(goneItems)
	goneItems = goneItems[:min(len(goneItems), reportMaxBars)]
	for i := range goneItems {
		goneItems[i].Text = formatCount(goneItems[i].Value) + " · " + formatPercent(goneItems[i].Value/max(rejected+withdrawn, 1))
	}
	out = append(out, section{ID: prefix + "leavers", Title: "Why candidates leave", WantsChart: true,
		Note: fmt.Sprintf("Applications that left in the period and had not come back by the as-of date: %s rejected, %s withdrawn. "+
			"The reason is the reject reason (disposition), else the stage name.",
			formatCount(rejected), formatCount(withdrawn)),
		Charts: chartsOf(goneItems, func() chart { return hbarChart("leavers", "Reasons applications left", "", goneItems) }),
		Table:  tbl(d.goneRows, gone, 0, "outcome", "reason", "applications")})

	// Time to fill by department, slowest first.
	dept := where(d.ttfDept, only)
	titems := medianItems(dept, "median_days_to_first_hire", "p75_days_to_first_hire", func(r record) string { return orNone(r["department"]) },
		func(med, p75 float64, r record) string {
			n, _ := number(r["first_hires"])
			return fmt.Sprintf("%s (p75 %s, %s)", formatDays(med), formatCount(p75), plural(int(n), "job"))
		})
	titems = titems[:min(len(titems), reportMaxBars)]
	out = append(out, section{ID: prefix + "time-to-fill", Title: "Time to fill by department", WantsChart: true,
		Note: "Median calendar days from a job's opening to its first hire in the period; the tick marks the 75th percentile. " +
			"Days per hire cover every hire of multi-hire jobs.",
		Charts: chartsOf(titems, func() chart { return hbarChart("time-to-fill", "Median days to first hire by department", "", titems) }),
		Table: tbl(d.ttfDept, dept, 0, "department", "first_hires", "median_days_to_first_hire", "p75_days_to_first_hire",
			"hires", "median_days_per_hire", "open_jobs", "on_hold_jobs")})

	// Source of hire.
	src := where(d.sources, only)
	var total float64
	for _, r := range src {
		v, _ := number(r["hires"])
		total += v
	}
	var sitems []chartItem
	for _, r := range src {
		v, _ := number(r["hires"])
		sitems = append(sitems, chartItem{Label: orNone(r["source"]), Value: v,
			Text: formatCount(v) + " · " + formatPercent(v/max(total, 1))})
	}
	sitems = byValue(sitems)
	sitems = sitems[:min(len(sitems), reportMaxBars)]
	out = append(out, section{ID: prefix + "source-of-hire", Title: "Source of hire", WantsChart: true,
		Note:   "Hires made in the period by the application's source.",
		Charts: chartsOf(sitems, func() chart { return hbarChart("source-of-hire", "Hires by source", "", sitems) }),
		Table:  tbl(d.sources, src, 0, "source", "hires", "share_of_hires", "median_days_to_hire")})

	// Pipeline by stage.
	pipe := where(d.cur.pipeline, only)
	var pitems []chartItem
	for _, r := range pipe {
		v, _ := number(r["open_applications"])
		pitems = append(pitems, chartItem{Label: stageLabel(r["funnel_stage"]), Value: v, Text: formatCount(v)})
	}
	pitems = byValue(pitems)
	out = append(out, section{ID: prefix + "pipeline", Title: "Pipeline by stage", WantsChart: true,
		Note:   "Active applications on open jobs by the stage they are in at the as-of date.",
		Charts: chartsOf(pitems, func() chart { return hbarChart("pipeline", "Active applications by stage", "", pitems) }),
		Table: tbl(d.cur.pipeline, pipe, 0, "funnel_stage", "open_applications",
			"median_days_in_stage", "median_days_since_applied")})

	offers := tbl(d.cur.offers, where(d.cur.offers, only), 0, "offers", "accepted", "declined", "rescinded", "pending",
		"acceptance_rate", "candidate_acceptance_rate")
	offers.Open = true
	jobs := where(d.cur.openJobs, only)
	open := len(where(d.cur.openJobs, forAccount(acc, "status", "open")))
	oldest := tbl(d.cur.openJobs, jobs, reportMaxOldJobs, "job_name", "status", "department", "location",
		"opened_on", "age_days", "applications", "hires")
	oldest.Open = true
	fresh := tbl(d.freshness, where(d.freshness, only), 0, "last_success_at", "lag_hours", "last_run_status", "last_run_at",
		"last_error", "jobs", "candidates", "stage_events")
	fresh.Open = true
	return append(out,
		section{ID: prefix + "offers", Title: "Offer acceptance", Table: offers,
			Note: "Offers extended in the period. Acceptance rate: accepted / offers extended (SHRM). Candidate acceptance " +
				"rate: accepted / (accepted + declined by the candidate); rescinded and pending offers are left out of it."},
		section{ID: prefix + "open-jobs", Title: "Oldest open jobs", Table: oldest,
			Note: fmt.Sprintf("%s open at the as-of date, oldest first, by the job's status whatever its hires; "+
				"%s on hold are listed after them, marked, and not counted as open.",
				plural(open, "job"), plural(len(jobs)-open, "job"))},
		section{ID: prefix + "freshness", Title: "Data freshness", Table: fresh},
	)
}

// medianItems makes one bar per row with a median (column med), ticked at
// column tick, largest first; rows without a median get none.
func medianItems(rows []record, med, tick string, label func(record) string, text func(med, tick float64, r record) string) []chartItem {
	var items []chartItem
	for _, r := range rows {
		m, ok := number(r[med])
		if !ok {
			continue
		}
		t, _ := number(r[tick])
		items = append(items, chartItem{Label: label(r), Value: m, Marker: t, Text: text(m, t, r)})
	}
	return byValue(items)
}

// stageLabel names a funnel stage, "(unmapped)" for none.
func stageLabel(v any) string {
	if s := orNone(v); s != "(none)" {
		return s
	}
	return "(unmapped)"
}

// weighted is the hire-weighted mean of the median_days of time_to_hire
// rows (one row: its median), with the hires, and whether there was any.
func weighted(rows []record) (float64, float64, bool) {
	var sum, n float64
	for _, r := range rows {
		hires, _ := number(r["hires"])
		if med, ok := number(r["median_days"]); ok && hires > 0 {
			sum, n = sum+med*hires, n+hires
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	return sum / n, n, true
}

// monthsFrom lists the first days of the months from from's to to's.
func monthsFrom(from, to time.Time) []time.Time {
	var out []time.Time
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(to); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

func isMonthEnd(t time.Time) bool { return t.AddDate(0, 0, 1).Day() == 1 }

// tableOf formats the columns cols of rows (records of r) for a reader:
// rates as percentages, days as whole numbers, counts with separators,
// dates and instants as human dates (instants in UTC and in loc), keeping
// at most limit rows (0 = all).
func tableOf(r *Result, rows []record, limit int, loc *time.Location, cols ...string) table {
	t := table{}
	types := map[string]string{}
	for i, c := range r.Columns {
		types[c] = r.Types[i]
	}
	for _, c := range cols {
		t.Columns = append(t.Columns, heading(c))
		k := kindOf(types[c])
		t.Numeric = append(t.Numeric, k == kindInt || k == kindFloat)
	}
	for _, rec := range rows {
		if limit > 0 && len(t.Rows) == limit {
			break
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = cell(c, types[c], rec[c], loc)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Summary = "Table: " + plural(len(rows), "row")
	if len(t.Rows) < len(rows) {
		t.Summary = fmt.Sprintf("Table: the first %d of %s", len(t.Rows), plural(len(rows), "row"))
	}
	return t
}

// heading is a column name as a reader reads it: "median_days" → "Median days".
func heading(col string) string {
	s := strings.ReplaceAll(col, "_", " ")
	s = strings.Replace(s, "p90", "P90", 1)
	s = strings.Replace(s, "p75", "P75", 1)
	return strings.ToUpper(s[:1]) + s[1:]
}

// cell formats one value of column col.
func cell(col, typ string, v any, loc *time.Location) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case time.Time:
		if strings.Contains(strings.ToUpper(typ), "TIMESTAMP") {
			return humanInstant(x, loc)
		}
		return x.Format(humanDay)
	case string:
		if col == "status" || col == "last_run_status" {
			return strings.ReplaceAll(x, "_", " ")
		}
		return x
	}
	f, ok := number(v)
	if !ok {
		return fmt.Sprint(v)
	}
	switch {
	case strings.HasSuffix(col, "_rate") || strings.Contains(col, "conversion") || strings.HasPrefix(col, "share_"):
		return formatPercent(f)
	case strings.Contains(col, "days") || strings.HasSuffix(col, "_hours"):
		return formatCount(f)
	case slices.Contains([]string{"offers_per_acceptance"}, col):
		return formatNumber(f)
	}
	return formatCount(f)
}
