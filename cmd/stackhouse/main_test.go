package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestRun_helpAndErrors(t *testing.T) {
	code, out, _ := runCmd(t, "help")
	if code != 0 || !strings.Contains(out, "backfill") || !strings.Contains(out, "stackhouse demo") {
		t.Errorf("help: %d %q", code, out)
	}
	for _, c := range commands() {
		code, _, errOut := runCmd(t, c.name, "-h")
		if code != 0 || !strings.Contains(errOut, "Usage: stackhouse "+c.name) {
			t.Errorf("%s -h: exit %d, %q", c.name, code, errOut)
		}
	}
	code, _, errOut := runCmd(t, "sycn")
	if code != 2 || !strings.Contains(errOut, `did you mean "sync"`) {
		t.Errorf("typo: %d %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "sync", "-bogus")
	if code != 2 || !strings.Contains(errOut, "flag provided but not defined: -bogus") {
		t.Errorf("bad flag: %d %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "sync", "-config", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 1 || !strings.Contains(errOut, "error: ") || !strings.Contains(errOut, "hint: copy config.example.yaml") {
		t.Errorf("missing config: %d %q", code, errOut)
	}
	code, out, _ = runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(out, "stackhouse ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestRun_logLevel: a LOG_LEVEL that is no level is refused, naming the
// variable and the levels, before the command does anything.
func TestRun_logLevel(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stackhouse.yaml")
	body := "warehouse:\n  path: " + filepath.Join(dir, "wh.duckdb") + "\naccounts:\n  - subdomain: acme\n    token: t\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LOG_LEVEL", "shouty")
	code, _, errOut := runCmd(t, "status", "-config", cfg)
	if code != 1 || !strings.Contains(errOut, `error: LOG_LEVEL: "shouty" is not debug, info, warn or error`) {
		t.Errorf("LOG_LEVEL=shouty: exit %d, %q", code, errOut)
	}
	t.Setenv("LOG_LEVEL", "DEBUG")
	if _, _, errOut := runCmd(t, "status", "-config", cfg); strings.Contains(errOut, "LOG_LEVEL") {
		t.Errorf("LOG_LEVEL=DEBUG refused: %q", errOut)
	}
}

// TestRun_endToEnd drives the commands a user types against the fake over
// loopback: api, backfill, sync, status, query, report, export.
func TestRun_endToEnd(t *testing.T) {
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates = 10, 220
	fs, baseURL := faketest.Serve(t, ten)
	cfg := writeConfig(t, baseURL, "${TEST_ACME_TOKEN}", "", "")
	dir := filepath.Dir(cfg)
	t.Setenv("TEST_ACME_TOKEN", ten.Token)
	t.Setenv("STACKHOUSE_CONFIG", cfg)

	code, out, errOut := runCmd(t, "api", "GET", "/api/jobs/1")
	if code != 0 || !strings.Contains(out, `"Method Result": "Success"`) || !strings.Contains(out, `"Job Serial"`) {
		t.Fatalf("api: %d %s %s", code, out, errOut)
	}
	hires, _ := fs.Serials("acme", fake.ListHires)
	code, out, _ = runCmd(t, "api", "GET", "/o/api/hire/"+hires[0])
	if code != 0 || strings.Contains(out, "SSN") || strings.Contains(out, "900-") || !strings.Contains(out, "Hire Serial") {
		t.Errorf("api on a hire: %d, sensitive fields printed or hire missing:\n%s", code, out)
	}
	code, _, errOut = runCmd(t, "api", "GET", "/api/candidate/a4nonenonexx")
	if code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("api 404: %d %q", code, errOut)
	}

	code, out, errOut = runCmd(t, "backfill", "-quiet")
	if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "succeeded") {
		t.Fatalf("backfill: %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, ten.Token) {
		t.Fatal("backfill output shows the token")
	}
	code, out, _ = runCmd(t, "sync")
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("sync: %d %s", code, out)
	}
	// query, report, status and export only read the warehouse: they need
	// no token in the environment.
	os.Unsetenv("TEST_ACME_TOKEN")
	code, out, _ = runCmd(t, "status")
	if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "220") {
		t.Errorf("status: %d %s", code, out)
	}
	if !regexp.MustCompile(`last publish: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+s ago\), took \S+, \d+ Parquet files`).MatchString(out) {
		t.Errorf("status shows no last publish:\n%s", out)
	}
	code, out, _ = runCmd(t, "query", "funnel_conversion", "-format", "csv")
	if code != 0 || !strings.HasPrefix(out, "account_id,stage_order,funnel_stage,reached,conversion,overall_conversion\n") ||
		strings.Count(out, "\n") != 6 || !strings.Contains(out, "acme,1,applied,220,") {
		t.Errorf("query csv at the account grain: %d %.300s", code, out)
	}
	code, out, _ = runCmd(t, "query", "time_to_fill", "-grain", "job", "-format", "csv")
	if code != 0 || !strings.HasPrefix(out, "account_id,job_id,job_name,") {
		t.Errorf("query -grain job: %d %.200s", code, out)
	}
	code, _, errOut = runCmd(t, "query", "time_to_fill", "-grain", "team")
	if code != 2 || !strings.Contains(errOut, `has no grain "team" (it has account, department, location, job)`) {
		t.Errorf("unknown grain: %d %q", code, errOut)
	}
	code, out, _ = runCmd(t, "query", "-format", "json", "time_to_hire", "-account", "acme", "-as-of", "2030-01-01")
	if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "[") {
		t.Errorf("query json: %d %.200s", code, out)
	}
	code, out, _ = runCmd(t, "query", "pipeline_snapshot", "-all-jobs", "-format", "csv")
	if code != 0 || !strings.HasPrefix(out, "account_id,funnel_stage,") {
		t.Errorf("query -all-jobs: %d %.200s", code, out)
	}
	code, _, errOut = runCmd(t, "query", "pipeline_snapshot", "-from", "2026-01-01")
	if code != 1 || !strings.Contains(errOut, "does not take from") {
		t.Errorf("param a metric does not take: %d %q", code, errOut)
	}
	code, out, _ = runCmd(t, "query", "-list")
	if code != 0 || !strings.Contains(out, "GRAINS") || !strings.Contains(out, "account,department,location,job") {
		t.Errorf("query -list: %d %s", code, out)
	}
	report := filepath.Join(dir, "r.html")
	code, out, _ = runCmd(t, "report", "-out", report)
	if b, err := os.ReadFile(report); code != 0 || err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("report: %d %s %v", code, out, err)
	}
	code, out, _ = runCmd(t, "export", "-out", filepath.Join(dir, "out"))
	if matches, _ := filepath.Glob(filepath.Join(dir, "out", "candidates", "account_id=acme", "*.parquet")); code != 0 || len(matches) != 1 {
		t.Errorf("export: %d %s %v", code, out, matches)
	}
	code, _, errOut = runCmd(t, "sync")
	if code != 1 || !strings.Contains(errOut, "accounts[0].token: environment variable TEST_ACME_TOKEN is not set") {
		t.Errorf("sync without its token: %d %q", code, errOut)
	}
	// The account's time zone is in the warehouse and its published copy.
	pub := warehousetest.OpenCopy(t, filepath.Join(dir, "pub.duckdb"))
	var zone string
	var days int
	if err := pub.QueryRow(`SELECT timezone, (SELECT count(*) FROM time_zone_days WHERE timezone = a.timezone)
		FROM accounts a WHERE account_id = 'acme'`).Scan(&zone, &days); err != nil || zone != "America/New_York" || days < 40000 {
		t.Errorf("accounts in the published copy: %q %d %v", zone, days, err)
	}
	pub.Close()
	t.Setenv("TEST_ACME_TOKEN", ten.Token)
	code, _, errOut = runCmd(t, "sync", "-account", "nope")
	if code != 1 || !strings.Contains(errOut, `no account "nope"`) {
		t.Errorf("unknown account: %d %q", code, errOut)
	}
}

// TestPublishLine: status says whether the last publish replaced the
// read-only copy (and how long that took) or kept it, and until when.
func TestPublishLine(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	base := warehouse.PublishRecord{FinishedAt: now.Add(-time.Minute), Took: 7 * time.Second}
	copied, kept := base, base
	copied.Stats = warehouse.PublishStats{Files: 2, Copied: true, CopyTook: 6150 * time.Millisecond}
	kept.Stats = warehouse.PublishStats{Files: 1, CopyStale: true, CopyDue: now.Add(2 * time.Minute)}
	for _, c := range []struct {
		r    warehouse.PublishRecord
		want string
	}{
		{base, "took 7s, 0 Parquet files and 0.0 MB written"},
		{copied, "; read-only copy replaced in 6.15s"},
		{kept, "; read-only copy kept until " + now.Add(2*time.Minute).Local().Format("15:04:05")},
	} {
		got := publishLine("last publish", c.r, now)
		if !strings.HasSuffix(got, c.want) && !strings.Contains(got, c.want+" (") {
			t.Errorf("publishLine = %q, want it to end with %q", got, c.want)
		}
		if strings.Contains(got, "read-only copy") != (c.r.Stats.Copied || c.r.Stats.CopyStale) {
			t.Errorf("publishLine = %q: the copy mentioned when it was neither replaced nor kept stale, or the reverse", got)
		}
	}
}
