package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
)

func TestRun_version(t *testing.T) {
	code, out, errOut := runCmd(t, "version")
	if code != 0 {
		t.Fatalf("version: exit %d: %s", code, errOut)
	}
	ms := schema.Migrations()
	for _, want := range []string{"go:     " + runtime.Version() + "\n", fmt.Sprintf("schema: %d\n", ms[len(ms)-1].Version)} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^duckdb: v\d+\.\d+\.\d+`).MatchString(out) {
		t.Errorf("version lacks the DuckDB version:\n%s", out)
	}
}

// TestNewLogger_durations: durations are seconds under a key ending in _s,
// in JSON and text alike, never integer nanoseconds.
func TestNewLogger_durations(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		newLogger(&buf, "info", format).Info("sync finished", slog.Duration("took", 89*time.Millisecond),
			slog.Group("phases", slog.Duration("pages", 1500*time.Millisecond)))
		out := buf.String()
		if format == "json" {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m["took_s"] != 0.089 || m["phases"].(map[string]any)["pages_s"] != 1.5 || m["took"] != nil {
				t.Errorf("json: %s", out)
			}
			continue
		}
		if !strings.Contains(out, "took_s=0.089") || !strings.Contains(out, "phases.pages_s=1.5") {
			t.Errorf("text: %s", out)
		}
	}
}

// TestSummarize_errors: a failed account's error names the account once,
// and an unreachable host ends with a hint naming base_url and subdomain.
func TestSummarize_errors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := applicantstack.NewClient("demo", "tok")
	c.BaseURL, c.MaxRetries, c.RequestsPerSecond = "http://"+addr, 0, 0
	_, apiErr := c.CandidatesPage(context.Background(), 1)
	if apiErr == nil {
		t.Fatal("no error from a closed port")
	}
	results := []sync.Result{{Run: schema.Run{AccountID: "demo", Status: "failed"},
		Err: fmt.Errorf("account demo: candidate page 1: %w", apiErr)}}
	var out bytes.Buffer
	err = summarize(&out, results, nil)
	if strings.Contains(out.String(), "demo: account demo") || !strings.Contains(out.String(), "demo: candidate page 1: ") {
		t.Errorf("error line repeats or lacks the account:\n%s", out.String())
	}
	var he *hintError
	if !errors.As(err, &he) || !strings.Contains(he.hint, "base_url") || !strings.Contains(he.hint, "subdomain") {
		t.Errorf("err = %v: want a hint naming base_url and subdomain", err)
	}
	if err.Error() != "1 of 1 account failed: demo" {
		t.Errorf("err = %q", err)
	}
	// Another failure gets no such hint.
	results[0].Err = errors.New("account demo: candidate page 1: 500 Internal Server Error")
	if err := summarize(&bytes.Buffer{}, results, nil); errors.As(err, &he) {
		t.Errorf("hint on a server error: %v", he.hint)
	}
}

// TestProgressView_endsFull: the bar of a finished run is drawn full, even
// after it was drawn part-filled while the run went on.
func TestProgressView_endsFull(t *testing.T) {
	var buf bytes.Buffer
	v := newProgressView(context.Background(), &buf, slog.New(slog.DiscardHandler), true)
	p := &sync.Progress{Account: "demo", Started: time.Now()}
	v.add(p)
	p.PagesTotal.Store(20)
	p.PagesDone.Store(1)
	v.update(false)
	p.PagesDone.Store(20)
	p.DetailsTotal.Store(2000)
	p.DetailsDone.Store(2000)
	v.close()
	bars := regexp.MustCompile(`\[[^\]\s]{10,}\]`).FindAllString(buf.String(), -1)
	if len(bars) == 0 {
		t.Fatalf("no bar drawn:\n%q", buf.String())
	}
	if last := bars[len(bars)-1]; strings.ContainsAny(last, "->_") {
		t.Errorf("the finished run's bar is not full: %s", last)
	}
	if !strings.Contains(buf.String(), "details 2000/2000") {
		t.Errorf("final counts missing:\n%q", buf.String())
	}
}

// TestEstimateBackfill: the estimate comes from page 1 of jobs and
// candidates of a real (fake) account, at the configured rate, and the
// backfill command prints it before it starts.
func TestEstimateBackfill(t *testing.T) {
	ten, baseURL := fakeAccount(t, 10, 220)
	a := &sync.AccountConfig{Subdomain: "acme", Token: applicantstack.Secret(ten.Token), BaseURL: baseURL,
		RequestsPerSecond: 5, Burst: 5, Concurrency: 4}
	e, err := estimateBackfill(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	candPages := (ten.Candidates + applicantstack.PageSize - 1) / applicantstack.PageSize
	requests := 1 + ten.Jobs + candPages + ten.Candidates
	want := time.Duration(float64(requests) / 5 * float64(time.Second)).Round(time.Second)
	if e.Applications != ten.Candidates || e.Jobs != ten.Jobs || e.CandPages != candPages || e.JobPages != 1 ||
		e.Requests() != requests || e.Duration() != want {
		t.Errorf("estimate %+v: %d requests, %s; want %d requests, %s", e, e.Requests(), e.Duration(), requests, want)
	}
	line := e.String()
	for _, s := range []string{fmt.Sprintf("about %d applications on %d pages and %d jobs on 1 page", ten.Candidates, candPages, ten.Jobs),
		"at 5 requests/s (4 at a time) at least " + want.String()} {
		if !strings.Contains(line, s) {
			t.Errorf("estimate %q lacks %q", line, s)
		}
	}

	cfg := writeConfig(t, baseURL, ten.Token, "", "")
	code, _, errOut := runCmd(t, "backfill", "-config", cfg)
	if code != 0 || !strings.Contains(errOut, "acme: backfill of about 220 applications") {
		t.Errorf("backfill: exit %d, no estimate:\n%s", code, errOut)
	}
}

// TestRun_queryFits: a table fits the screen width ($COLUMNS here, the
// terminal's on a terminal) and -limit, with notes on what was left out;
// -columns picks columns; csv is not cut by width.
func TestRun_queryFits(t *testing.T) {
	cfg := backfilled(t, 30, 300)
	_, all, _ := runCmd(t, "query", "time_to_fill", "-grain", "job", "-config", cfg, "-format", "csv")
	rows := strings.Count(all, "\n") - 1
	header := strings.Split(strings.SplitN(all, "\n", 2)[0], ",")
	if rows <= 6 || len(header) < 6 {
		t.Fatalf("want more than 5 rows and 6 columns to cut, got:\n%s", all)
	}

	t.Setenv("COLUMNS", "60")
	code, out, errOut := runCmd(t, "query", "time_to_fill", "-grain", "job", "-config", cfg, "-limit", "5")
	if code != 0 {
		t.Fatalf("query: %d %s", code, errOut)
	}
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if n := len([]rune(line)); n > 60 {
			t.Errorf("line of %d characters on a 60-column screen: %q", n, line)
		}
	}
	if !strings.Contains(out, "(5 rows)") || !strings.Contains(errOut, fmt.Sprintf("note: %d more rows not shown; -limit 0", rows-5)) ||
		!strings.Contains(errOut, "-columns") || !strings.Contains(errOut, header[len(header)-1]) {
		t.Errorf("cut table or notes wrong:\n%s\n%s", out, errOut)
	}

	code, out, errOut = runCmd(t, "query", "time_to_fill", "-grain", "job", "-config", cfg, "-limit", "0", "-columns", "job_name,status")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if code != 0 || !strings.HasPrefix(lines[0], "job_name") || !strings.Contains(lines[0], "status") || strings.Contains(lines[0], "account_id") ||
		len(lines) != rows+3 || !onlyReadingNote(errOut) {
		t.Errorf("-columns: %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "query", "time_to_fill", "-config", cfg, "-columns", "nope")
	if code != 2 || !strings.Contains(errOut, `no column "nope"`) || !strings.Contains(errOut, "median_days_to_first_hire") {
		t.Errorf("unknown column: %d %s", code, errOut)
	}
	if _, csv, _ := runCmd(t, "query", "time_to_fill", "-grain", "job", "-config", cfg, "-format", "csv"); csv != all {
		t.Error("csv is cut by the screen width")
	}
}

// TestRun_queryOneRow: a one-row table says "1 row".
func TestRun_queryOneRow(t *testing.T) {
	cfg := backfilled(t, 5, 40)
	code, out, errOut := runCmd(t, "query", "time_to_hire", "-config", cfg)
	if code != 0 || !strings.HasSuffix(out, "(1 row)\n") {
		t.Errorf("query: %d\n%s\n%s", code, out, errOut)
	}
}

// backfilled returns the configuration of a warehouse backfilled from a
// fake account (fakeAccount).
func backfilled(t *testing.T, jobs, candidates int) string {
	t.Helper()
	ten, baseURL := fakeAccount(t, jobs, candidates)
	cfg := writeConfig(t, baseURL, ten.Token, "", "")
	if code, out, errOut := runCmd(t, "backfill", "-quiet", "-config", cfg); code != 0 {
		t.Fatalf("backfill: %d\n%s\n%s", code, out, errOut)
	}
	return cfg
}

// onlyReadingNote reports whether stderr holds nothing but the note that
// says which database query read (the published copy).
func onlyReadingNote(stderr string) bool {
	return strings.HasPrefix(stderr, "reading the published copy ") && strings.Count(stderr, "\n") == 1
}
