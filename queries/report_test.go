package queries

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostile is data that must come out escaped.
const hostile = `<script>alert("x")</script> & "R&D"`

// writeReport renders the report of the hand-built data, plus a department
// named like markup, into dir and returns its path and text.
func writeReport(t *testing.T, dir string) (string, string) {
	t.Helper()
	db := openHand(t)
	execSQL(t, db, `UPDATE jobs SET department = '`+strings.ReplaceAll(hostile, "'", "''")+`' WHERE job_id = 'G1'`)
	var buf bytes.Buffer
	if err := Report(context.Background(), db, Params{AsOf: asOf}, &buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.String()
}

// reportCharts are the data-chart ids Report must draw.
var reportCharts = []string{"funnel", "time-to-fill", "hires-per-month", "source-of-hire", "pipeline"}

func TestReport(t *testing.T) {
	_, html := writeReport(t, t.TempDir())
	for _, id := range reportCharts {
		if !strings.Contains(html, `<svg class="chart" data-chart="`+id+`"`) {
			t.Errorf("chart %s missing", id)
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
	// The numbers behind the charts are in the tables: acme's funnel and
	// the hires of February 2024. The report is as of 2024-06-30, so the
	// hires card counts 6: acme's A6 is hired only on 07-10. Open jobs are
	// J2, J3 and G2.
	for _, want := range []string{"<td>acme</td><td>applied</td><td class=\"num\">11</td>", "2024-02",
		"Hires</div><div class=\"value\">6</div>", "Open jobs</div><div class=\"value\">3</div>", "@media print"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if err := Report(context.Background(), openHand(t), Params{From: date("2024-02-01"), To: date("2024-01-01")}, &bytes.Buffer{}); err == nil {
		t.Error("bad params accepted")
	}
}

func TestReport_Empty(t *testing.T) {
	var buf bytes.Buffer
	if err := Report(context.Background(), openDB(t), Params{}, &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<svg ") || strings.Count(html, "No data for this chart.") != len(reportCharts) {
		t.Errorf("empty warehouse: charts drawn or not explained:\n%s", html)
	}
	if !strings.Contains(html, "all accounts, all time, as of today") {
		t.Error("scope line missing")
	}
}
