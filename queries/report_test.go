package queries

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostile is data that must come out escaped.
const hostile = `<script>alert("x")</script> & "R&D"`

// handReportParams is the report of the hand-built data the tests read: a
// year and a half up to as_of, so every hire of handData is in it.
var handReportParams = Params{From: date("2023-01-01"), AsOf: asOf}

// writeReport renders the report of the hand-built data, plus a department
// named like markup, into dir and returns its path and text. The report is
// rendered once per test binary (handReport) and shared by the tests that
// read it.
func writeReport(t *testing.T, dir string) (string, string) {
	t.Helper()
	html, err := handReport()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, html
}

// handReport renders the report writeReport writes, once.
var handReport = sync.OnceValues(func() (string, error) {
	wh, err := newHand()
	if err != nil {
		return "", err
	}
	defer wh.Close()
	db := wh.SQL()
	if _, err := db.Exec(`UPDATE jobs SET department = ? WHERE job_id = 'G1'`, hostile); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := Report(context.Background(), db, handReportParams, ReportOptions{}, &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
})

// reportCharts are the data-chart ids Report draws for an account with data
// for all of them, in page order.
var reportCharts = []string{"ttf-trend", "tth-trend", "hires-per-month", "funnel", "stage-duration", "leavers",
	"time-to-fill", "source-of-hire", "pipeline"}

// reportSections are the section ids of one account, in page order; the
// first len(reportCharts)-1 hold the charts (the trends hold two).
var reportSections = []string{"trends", "hires-per-month", "funnel", "stage-duration", "leavers", "time-to-fill",
	"source-of-hire", "pipeline", "offers", "open-jobs", "freshness"}

// accountHTML returns the part of a several-account report about acc.
func accountHTML(t *testing.T, html, acc string) string {
	t.Helper()
	start := strings.Index(html, `<h2 class="account" id="account-`+acc+`">`)
	if start < 0 {
		t.Fatalf("no section for account %s", acc)
	}
	part := html[start+1:]
	if end := strings.Index(part, `<h2 class="account"`); end >= 0 {
		part = part[:end]
	}
	return part
}

func TestReport(t *testing.T) {
	t.Parallel()
	_, html := writeReport(t, t.TempDir())
	acme := accountHTML(t, html, "acme")
	for _, id := range reportCharts {
		if !strings.Contains(acme, `<svg class="chart" data-chart="`+id+`"`) {
			t.Errorf("acme: chart %s missing", id)
		}
	}
	// Self-contained: no URL of any scheme, no external resource tags.
	if m := regexp.MustCompile(`(?i)(https?:|//[a-z0-9]|url\(|@import|<script|<img|<link|<iframe|src=)`).FindString(html); m != "" {
		t.Errorf("report references something external: %q", m)
	}
	if strings.Contains(html, hostile) || strings.Contains(html, "<script>alert") {
		t.Error("data is not escaped")
	}
	if !strings.Contains(html, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;R&amp;D&#34;") {
		t.Error("escaped department not found")
	}
	// The numbers behind the charts are in the tables: acme's funnel (11
	// applications) in acme's section, and the hires of February 2024. Six
	// hires are in the period: acme's A6 is hired only on 07-10, after
	// as_of. Open jobs are J2, J3 and G2.
	for _, want := range []string{`<td>applied</td><td class="num">11</td>`, "Feb 1, 2024"} {
		if !strings.Contains(acme, want) {
			t.Errorf("acme's section lacks %q", want)
		}
	}
	for _, want := range []string{`Hires this period</div><div class="value">6</div>`,
		`Open jobs</div><div class="value">3</div>`, "@media print"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := Report(context.Background(), sharedHand(t), Params{From: date("2024-02-01"), To: date("2024-01-01")}, ReportOptions{}, &bytes.Buffer{}); err == nil {
		t.Error("bad params accepted")
	}
}

func TestReport_Empty(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	now := time.Date(2026, 11, 29, 18, 34, 0, 0, time.UTC)
	if err := Report(context.Background(), openDB(t), Params{}, ReportOptions{Now: func() time.Time { return now }}, &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<svg ") || strings.Count(html, "No data for this chart.") != len(reportSections)-3 {
		t.Errorf("empty warehouse: charts drawn or not explained:\n%s", html)
	}
	for _, want := range []string{"all accounts, Sep 1, 2026 – Nov 29, 2026 (last 90 days), as of today",
		"generated Nov 29, 2026 18:34 UTC", `class="alert"`} {
		if want == `class="alert"` {
			if strings.Contains(html, want) {
				t.Error("an empty warehouse has no sync to warn about")
			}
			continue
		}
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestReportPeriods: the default period is the 90 days up to to (else
// as_of, else today), compared with the 90 days before; each is as of its
// end.
func TestReportPeriods(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 18, 34, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                     string
		p                        Params
		from, to, pfrom, pto, as string
	}{
		{"default", Params{}, "2026-09-01", "2026-11-29", "2026-06-03", "2026-08-31", ""},
		{"as of", Params{AsOf: date("2024-06-30")}, "2024-04-02", "2024-06-30", "2024-01-03", "2024-04-01", "2024-06-30"},
		{"from to", Params{From: date("2024-01-01"), To: date("2024-01-31")}, "2024-01-01", "2024-01-31", "2023-12-01", "2023-12-31", "2024-01-31"},
		{"from only", Params{From: date("2026-11-01")}, "2026-11-01", "2026-11-29", "2026-10-03", "2026-10-31", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, prev := reportPeriods(tc.p, now)
			got := []string{day(cur.From), day(cur.To), day(prev.From), day(prev.To), ""}
			if !cur.AsOf.IsZero() {
				got[4] = day(cur.AsOf)
			}
			want := []string{tc.from, tc.to, tc.pfrom, tc.pto, tc.as}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("periods %v, want %v", got, want)
			}
			if !prev.AsOf.Equal(prev.To) {
				t.Errorf("previous period as of %s, want its end %s", day(prev.AsOf), day(prev.To))
			}
		})
	}
}

// tileText returns the tile labelled label: its value and change.
func tileText(t *testing.T, html, label string) (value, change string) {
	t.Helper()
	m := regexp.MustCompile(`<div class="label">` + regexp.QuoteMeta(label) +
		`</div><div class="value">([^<]*)</div>(?:<div class="change[^"]*">([^<]*)</div>)?`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no tile %q", label)
	}
	return m[1], m[2]
}

// TestReport_tiles: the headline tiles come first, each with a value and
// its change against the previous period, computed from the metrics.
func TestReport_tiles(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	p := Params{Account: "acme", From: date("2024-04-01"), To: date("2024-06-30")}
	var buf bytes.Buffer
	if err := Report(context.Background(), db, p, ReportOptions{}, &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	labels := []string{"Median time to fill", "Median time to hire", "Open jobs", "Active applications",
		"Hires this period", "Offer acceptance"}
	first := strings.Index(html, "<section")
	for _, l := range labels {
		if i := strings.Index(html, `<div class="label">`+l+`</div>`); i < 0 || i > first {
			t.Errorf("tile %q missing or not before the sections", l)
		}
	}
	// Hires in the period and in the 91 days before, by the metric.
	cur := run(t, db, "time_to_hire", Params{Account: "acme", From: p.From, To: p.To, AsOf: p.To})
	prev := run(t, db, "time_to_hire", Params{Account: "acme", From: date("2024-01-01"), To: date("2024-03-31"), AsOf: date("2024-03-31")})
	c, pv := total(cur, "hires"), total(prev, "hires")
	value, ch := tileText(t, html, "Hires this period")
	if value != formatCount(c) || !strings.Contains(ch, formatCount(abs(c-pv))) || !strings.HasSuffix(ch, "vs 91 days before") {
		t.Errorf("hires tile %q %q; want %v, previous %v", value, ch, c, pv)
	}
	med, _ := number(one(t, cur, record{"account_id": "acme"})["median_days"])
	if value, _ := tileText(t, html, "Median time to hire"); value != formatDays(med) {
		t.Errorf("time to hire tile %q, want %s", value, formatDays(med))
	}
	// Offer acceptance is a percentage.
	if value, _ := tileText(t, html, "Offer acceptance"); !regexp.MustCompile(`^\d+(\.\d)? %$`).MatchString(value) {
		t.Errorf("offer acceptance %q is not a percentage", value)
	}
	if !strings.Contains(html, "account acme, Apr 1, 2024 – Jun 30, 2024, as of Jun 30, 2024") {
		t.Error("scope line wrong")
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func total(r *Result, col string) float64 { return sumCol(records(r), col) }

// TestReport_stale: a failed last sync, an account that never synced and
// one whose last success is older than StaleAfter are said at the top, in
// red, with the error (in the shared report of the hand-built data); a
// fresh account is not.
func TestReport_stale(t *testing.T) {
	t.Parallel()
	html, err := handReport()
	if err != nil {
		t.Fatal(err)
	}
	alert := regexp.MustCompile(`(?s)<div class="alert" role="alert">.*?</div>`).FindString(html)
	if alert == "" || strings.Index(html, alert) > strings.Index(html, `<div class="cards">`) {
		t.Fatalf("no alert before the tiles:\n%s", html)
	}
	for _, want := range []string{"acme: the last sync failed (started Jun 30, 2024 12:00 UTC (05:00 PDT)): candidate page 3: timeout",
		"globex: stale, the last successful sync was Jun 29, 2024 08:10 UTC", "initech: never synced successfully",
		"more than 3 hours old"} {
		if !strings.Contains(alert, want) {
			t.Errorf("alert lacks %q:\n%s", want, alert)
		}
	}
	if !regexp.MustCompile(`\.alert \{[^}]*color: var\(--bad\)`).MatchString(html) || !strings.Contains(html, "--bad: #b42318") {
		t.Error("the alert is not red")
	}
	// globex's last run succeeded; as of its end, 40 hours ago, it is
	// fresh with a 48-hour threshold.
	var buf bytes.Buffer
	p := handReportParams
	p.Account = "globex"
	if err := Report(context.Background(), sharedHand(t), p, ReportOptions{StaleAfter: 48 * time.Hour}, &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `class="alert"`) {
		t.Error("a fresh account is reported stale")
	}
}

// TestReport_format: rates as percentages, whole days, human dates, right
// plurals, no account_id column, bars sorted by value, tables folded under
// their charts, the current month marked partial.
func TestReport_format(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	var buf bytes.Buffer
	p := Params{Account: "acme", From: date("2024-01-01"), AsOf: date("2024-06-15")}
	if err := Report(context.Background(), db, p, ReportOptions{}, &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "Account id") || strings.Contains(html, "account_id") || strings.Contains(html, `class="account"`) {
		t.Error("a one-account report repeats the account")
	}
	cells := regexp.MustCompile(`<td[^>]*>([^<]*)</td>`).FindAllStringSubmatch(html, -1)
	for _, c := range cells {
		if regexp.MustCompile(`^-?\d+\.\d+$`).MatchString(c[1]) {
			t.Errorf("raw decimal %q in a table: rates are percentages, days whole numbers", c[1])
		}
		if regexp.MustCompile(`^\d{4}-\d\d-\d\d`).MatchString(c[1]) {
			t.Errorf("machine date %q in a table", c[1])
		}
	}
	if !regexp.MustCompile(`<td class="num">\d+(\.\d)? %</td>`).MatchString(html) {
		t.Error("no percentage in the tables")
	}
	if m := regexp.MustCompile(`\b1 (jobs|rows|days|offers|hours|applications)\b`).FindString(html); m != "" {
		t.Errorf("wrong plural %q", m)
	}
	// Bars of every category chart, largest first.
	for _, id := range []string{"stage-duration", "leavers", "time-to-fill", "source-of-hire", "pipeline"} {
		svg := regexp.MustCompile(`(?s)data-chart="` + id + `".*?</svg>`).FindString(html)
		var widths []float64
		for _, m := range regexp.MustCompile(`<rect class="bar" x="[^"]*" y="[^"]*" width="([^"]*)"`).FindAllStringSubmatch(svg, -1) {
			w, _ := strconv.ParseFloat(m[1], 64)
			widths = append(widths, w)
		}
		if len(widths) == 0 {
			t.Errorf("chart %s has no bars", id)
		}
		for i := 1; i < len(widths); i++ {
			if widths[i] > widths[i-1] {
				t.Errorf("chart %s: bars not sorted by value: %v", id, widths)
			}
		}
	}
	// Tables under a chart are folded; the open-jobs table has no chart.
	for _, id := range []string{"funnel", "leavers", "pipeline"} {
		sec := regexp.MustCompile(`(?s)<section id="` + id + `">.*?</section>`).FindString(html)
		if !strings.Contains(sec, "<details>") || strings.Contains(sec, "<details open>") {
			t.Errorf("section %s: table not folded under its chart", id)
		}
	}
	// June 2024 is cut by the as-of date: its bar is drawn partial.
	hires := regexp.MustCompile(`(?s)data-chart="hires-per-month".*?</svg>`).FindString(html)
	if !regexp.MustCompile(`<title>Jun &#39;24: \d+</title>\s*<rect class="bar partial"`).MatchString(hires) ||
		strings.Count(hires, "bar partial") != 1 || !strings.Contains(html, "June, a month not over yet (to Jun 15, 2024)") {
		t.Errorf("the current month is not marked partial:\n%s", hires)
	}
	// Oldest open jobs show the status; on-hold jobs are marked.
	jobs := regexp.MustCompile(`(?s)<section id="open-jobs">.*?</section>`).FindString(html)
	if !strings.Contains(jobs, "<th>Status</th>") || !strings.Contains(jobs, "<td>open</td>") {
		t.Errorf("open jobs without status:\n%s", jobs)
	}
}

// TestReport_onHold: a job on hold is listed, marked, and not counted open.
func TestReport_onHold(t *testing.T) {
	t.Parallel()
	db := openHand(t)
	execSQL(t, db, `UPDATE jobs SET status = 'on_hold', remote_updated_at = '2024-05-01 00:00:00+00' WHERE job_id = 'J3'`)
	var buf bytes.Buffer
	p := Params{Account: "acme", From: date("2024-01-01"), AsOf: asOf}
	if err := Report(context.Background(), db, p, ReportOptions{}, &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	open := len(where(run(t, db, "open_jobs_aging", Params{Account: "acme", AsOf: asOf}), record{"status": "open"}))
	if v, _ := tileText(t, html, "Open jobs"); v != strconv.Itoa(open) {
		t.Errorf("open jobs tile %s, want %d", v, open)
	}
	if !strings.Contains(html, `<span class="badge">on hold</span>`) || !strings.Contains(html, "1 job on hold, not counted") {
		t.Error("the job on hold is not marked")
	}
}

// TestReport_accounts: several accounts get one section each, under the
// combined tiles, which add them up.
func TestReport_accounts(t *testing.T) {
	t.Parallel()
	_, html := writeReport(t, t.TempDir())
	if n := strings.Count(html, `<h2 class="account"`); n != 3 {
		t.Errorf("%d account sections, want 3 (acme, globex, initech)", n)
	}
	combined, _ := tileText(t, html, "Hires this period")
	sum := 0
	for _, acc := range []string{"acme", "globex", "initech"} {
		v, _ := tileText(t, accountHTML(t, html, acc), "Hires this period")
		n, _ := strconv.Atoi(v)
		sum += n
		for _, id := range reportSections {
			if !strings.Contains(accountHTML(t, html, acc), `<section id="`+acc+"-"+id+`">`) {
				t.Errorf("%s: section %s missing", acc, id)
			}
		}
	}
	if combined != strconv.Itoa(sum) {
		t.Errorf("combined hires %s, accounts add up to %d", combined, sum)
	}
	if !strings.Contains(html, "all 3 accounts") {
		t.Error("scope does not name the accounts")
	}
}

// TestLeavers: rejected and withdrawn applications by reason, by hand.
func TestLeavers(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res, err := Run(context.Background(), db, leavers(), Params{From: date("2024-01-01"), To: asOf, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	// acme: A2 and A10 rejected (Not a Fit, no reason given), A3 withdrawn;
	// A4 was rejected but hired since. globex: B4 rejected, B5 declined
	// its offer (reason Offer Declined).
	expect(t, one(t, res, record{"account_id": "acme", "reason": "Not a Fit"}), record{"outcome": "rejected", "applications": 2})
	expect(t, one(t, res, record{"account_id": "acme", "reason": "Withdrew"}), record{"outcome": "withdrawn", "applications": 1})
	expect(t, one(t, res, record{"account_id": "globex", "reason": "Rejected"}), record{"applications": 1})
	expect(t, one(t, res, record{"account_id": "globex", "reason": "Offer Declined"}), record{"applications": 1})
	if len(res.Rows) != 4 {
		t.Errorf("%d rows, want 4: %v", len(res.Rows), res.Rows)
	}
}
