package queries

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// wantMetrics are the metrics the issue asks for, at least.
var wantMetrics = []string{
	"applicants_per_opening", "data_freshness", "funnel_conversion", "hiring_velocity",
	"offer_acceptance", "open_jobs_aging", "pipeline_snapshot", "source_of_hire",
	"stage_duration", "time_to_fill", "time_to_hire", "unmapped_stages",
}

func TestMetric_Summary(t *testing.T) {
	for def, want := range map[string]string{
		"Days from opening to hire. Counted per job, as of a date.": "Days from opening to hire.",
		"Days from opening to hire (p.50 excluded).":                "Days from opening to hire (p.50 excluded).",
		"": "",
	} {
		if got := (Metric{Definition: def}).Summary(); got != want {
			t.Errorf("Summary of %q = %q, want %q", def, got, want)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	ms := List()
	var names []string
	for _, m := range ms {
		names = append(names, m.Name)
		t.Run(m.Name, func(t *testing.T) {
			if m.Title == "" || len(m.Definition) < 40 {
				t.Errorf("title %q, definition %q", m.Title, m.Definition)
			}
			if s := m.Summary(); s == "" || !strings.HasPrefix(m.Definition, s) || strings.Contains(s, ". ") {
				t.Errorf("summary %q is not the first sentence of %q", s, m.Definition)
			}
			// Every header states the definition, the standard it follows
			// and where it departs, its conventions, dates and parameters.
			for _, part := range []string{"-- Standard:", "-- Conventions:", "-- Time zone:", "-- Parameters:"} {
				if !strings.Contains(m.SQL, part) {
					t.Errorf("header lacks %s", part)
				}
			}
			for _, p := range m.Params {
				if !strings.Contains(m.SQL, p+" ") && !strings.Contains(m.SQL, p+",") {
					t.Errorf("parameter %s is not described", p)
				}
			}
			if !m.Takes(ParamAsOf) {
				t.Error("every metric takes as_of")
			}
			if len(m.Grains) > 0 {
				line := "-- Grains: " + m.Grains[0] + " (default)"
				for _, g := range m.Grains[1:] {
					line += ", " + g
				}
				if !strings.Contains(m.SQL, line) {
					t.Errorf("header does not list the grains as %q", line)
				}
			}
		})
	}
	if !slices.Equal(names, wantMetrics) {
		t.Errorf("metrics %v, want %v", names, wantMetrics)
	}
	ms[0].Params[0] = "changed"
	if List()[0].Params[0] == "changed" {
		t.Error("List returns shared slices")
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"time_to_fill", "TIME-TO-FILL", " metric_time_to_fill "} {
		if m, err := Lookup(name); err != nil || m.Name != "time_to_fill" {
			t.Errorf("Lookup(%q) = %q, %v", name, m.Name, err)
		}
	}
	cases := []struct{ name, suggests string }{
		{"time_to_fil", "time_to_fill"},
		{"funnel", "funnel_conversion"},
		{"stage_durations", "stage_duration"},
		{"xyzzy", ""},
	}
	for _, c := range cases {
		_, err := Lookup(c.name)
		if !errors.Is(err, ErrUnknownMetric) {
			t.Fatalf("Lookup(%q) error %v, want ErrUnknownMetric", c.name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "stackhouse query -list") || !strings.Contains(msg, c.name) {
			t.Errorf("Lookup(%q): %s", c.name, msg)
		}
		if c.suggests != "" && !strings.Contains(msg, "did you mean "+c.suggests) {
			t.Errorf("Lookup(%q) does not suggest %s: %s", c.name, c.suggests, msg)
		}
		if c.suggests == "" && strings.Contains(msg, "did you mean") {
			t.Errorf("Lookup(%q) suggests something: %s", c.name, msg)
		}
	}
}

func TestParseMetric(t *testing.T) {
	t.Parallel()
	good := "-- name: x\n-- title: X\n-- params: account\n--\n-- Definition: a\n-- b.\n--\n-- Conventions: c\n" +
		"WITH params AS (SELECT $account, $from, $to, $as_of, $all_jobs)\nSELECT 1"
	m, err := parseMetric("x", good)
	if err != nil || m.Definition != "a b." || !slices.Equal(m.Params, []string{"account"}) || m.Grains != nil {
		t.Fatalf("parseMetric = %+v, %v", m, err)
	}
	if q, err := m.Query(""); err != nil || q != good {
		t.Errorf("Query = %q, %v", q, err)
	}
	if _, err := m.Query("job"); err == nil {
		t.Error("a metric with one grain accepted a grain")
	}
	grains := strings.Replace(good, "SELECT 1", "SELECT 0\n-- grain: account\nSELECT 1;\n-- grain: job\nSELECT 2;\n", 1)
	m, err = parseMetric("x", grains)
	if err != nil || !slices.Equal(m.Grains, []string{"account", "job"}) || m.DefaultGrain() != "account" {
		t.Fatalf("parseMetric = %+v, %v", m, err)
	}
	common := strings.TrimSuffix(good, "SELECT 1") + "SELECT 0\n"
	for g, want := range map[string]string{"": common + "SELECT 1;\n", "account": common + "SELECT 1;\n", "job": common + "SELECT 2;\n"} {
		if q, err := m.Query(g); err != nil || q != want {
			t.Errorf("Query(%q) = %q, %v; want %q", g, q, err, want)
		}
	}
	if _, err := m.Query("source"); err == nil || !strings.Contains(err.Error(), "has no grain \"source\" (it has account, job)") {
		t.Errorf("unknown grain: %v", err)
	}
	if m.ViewName("") != "metric_x" || m.ViewName("account") != "metric_x" || m.ViewName("job") != "metric_x_by_job" {
		t.Errorf("view names %s %s", m.ViewName(""), m.ViewName("job"))
	}
	bad := map[string]string{
		"name mismatch":      strings.Replace(good, "name: x", "name: y", 1),
		"no definition":      strings.Replace(good, "-- Definition: a\n-- b.\n", "", 1),
		"unknown param":      strings.Replace(good, "params: account", "params: account, since", 1),
		"param bound once":   strings.Replace(good, "$to, ", "", 1),
		"param concat":       good + " WHERE x = $account",
		"param in a grain":   grains + "-- grain: source\nSELECT $as_of;\n",
		"grain repeated":     grains + "-- grain: job\nSELECT 3;\n",
		"grain without name": grains + "-- grain: \nSELECT 3;\n",
	}
	for name, text := range bad {
		if _, err := parseMetric("x", text); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRun_Params(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	ctx := context.Background()
	ttf, _ := Lookup("time_to_fill")
	snap, _ := Lookup("pipeline_snapshot")
	cases := []struct {
		name string
		m    Metric
		p    Params
		want string
	}{
		{"from after to", ttf, Params{From: date("2024-05-01"), To: date("2024-04-01")}, "from 2024-05-01 is after to 2024-04-01"},
		{"unused from", snap, Params{From: date("2024-01-01")}, "pipeline_snapshot does not take from"},
		{"unused to", Metric{Name: "unmapped_stages", Params: []string{"account"}}, Params{To: date("2024-01-01")}, "does not take to"},
		{"unused all_jobs", ttf, Params{AllJobs: true}, "time_to_fill does not take all_jobs"},
		{"unknown grain", ttf, Params{Grain: "source"}, "time_to_fill has no grain \"source\" (it has account, department, location, job)"},
		{"grain of a one-grain metric", snap, Params{Grain: "job"}, "pipeline_snapshot has one grain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(ctx, db, c.m, c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	// From equal to To is one day, not an error.
	if err := (Params{From: date("2024-02-01"), To: date("2024-02-01")}).Validate(); err != nil {
		t.Error(err)
	}
	// Only the calendar date counts, read in the time's own location.
	east := time.Date(2024, 6, 30, 1, 0, 0, 0, time.FixedZone("+05", 5*3600))
	res := run(t, db, "pipeline_snapshot", Params{AsOf: east})
	if n := len(where(res, record{"account_id": "globex"})); n != 1 {
		t.Errorf("as_of 2024-06-30 in +05 read as another date: %v", res.Rows)
	}
	// A query error names the metric.
	if _, err := Run(ctx, db, Metric{Name: "broken", SQL: "SELECT * FROM nowhere"}, Params{}); err == nil ||
		!strings.Contains(err.Error(), "metric broken") {
		t.Errorf("error %v", err)
	}
}

func TestCreateViews(t *testing.T) {
	t.Parallel()
	db := openHand(t)
	ctx := context.Background()
	for range 2 { // idempotent
		if err := CreateViews(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range List() {
		for _, g := range grainsOf(m) {
			t.Run(m.ViewName(g), func(t *testing.T) {
				want, err := Run(ctx, db, m, Params{Grain: g})
				if err != nil {
					t.Fatal(err)
				}
				rows, err := db.QueryContext(ctx, "SELECT * FROM "+m.ViewName(g))
				if err != nil {
					t.Fatal(err)
				}
				got, err := readRows(rows)
				rows.Close()
				if err != nil {
					t.Fatal(err)
				}
				dropColumn(want, "lag_hours")
				dropColumn(got, "lag_hours")
				var a, b bytes.Buffer
				WriteCSV(&a, want)
				WriteCSV(&b, got)
				if a.String() != b.String() {
					t.Errorf("view differs from Run with defaults:\nview:\n%s\nrun:\n%s", b.String(), a.String())
				}
				if len(got.Rows) == 0 {
					t.Error("view is empty on the hand-built data")
				}
				var comment string
				if err := db.QueryRowContext(ctx, "SELECT comment FROM duckdb_views() WHERE view_name = ?", m.ViewName(g)).Scan(&comment); err != nil ||
					!strings.Contains(comment, m.Definition) {
					t.Errorf("view comment %q, %v", comment, err)
				}
			})
		}
	}
}

// grainsOf returns m's grains, or [""] for a metric with one grain.
func grainsOf(m Metric) []string {
	if len(m.Grains) == 0 {
		return []string{""}
	}
	return m.Grains
}

// dropColumn blanks a column whose value depends on the clock.
func dropColumn(r *Result, name string) {
	if i := slices.Index(r.Columns, name); i >= 0 {
		for _, row := range r.Rows {
			row[i] = nil
		}
	}
}

// TestGolden keeps every metric's full answer on the hand-built data, as
// of 2024-06-30, in testdata/golden/<name>.csv (default grain) and
// <name>.<grain>.csv. The hand-computed tests pin the values that matter;
// the golden files catch every other change. Run with -update to rewrite them after a
// deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	for _, m := range List() {
		for _, g := range grainsOf(m) {
			file := m.Name + ".csv"
			if g != "" && g != m.DefaultGrain() {
				file = m.Name + "." + g + ".csv"
			}
			t.Run(file, func(t *testing.T) {
				res := run(t, db, m.Name, Params{AsOf: asOf, Grain: g})
				dropColumn(res, "lag_hours")
				var buf bytes.Buffer
				if err := WriteCSV(&buf, res); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "golden", file)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./queries -run TestGolden -update)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s changed:\ngot:\n%s\nwant:\n%s", path, buf.Bytes(), want)
				}
			})
		}
	}
}
