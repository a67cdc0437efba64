package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// env is a fake ApplicantStack over loopback HTTP, a config pointing at it,
// a real DuckDB warehouse in a temp dir and a Syncer: the engine a daemon
// under test drives, through its exported API only.
type env struct {
	t      testing.TB
	fake   *fake.Server
	base   string
	tenant fake.Tenant
	cfg    *sync.Config
	dir    string
	db     *warehouse.DB
	s      *sync.Syncer
	logs   *bytes.Buffer // written through slog, whose handlers serialize writes
}

func newEnv(t testing.TB, candidates int, edit func(*fake.Tenant)) *env {
	t.Helper()
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates, ten.CustomFields = 15, candidates, true
	ten.WebhookSecret = "hook-secret-do-not-leak"
	if edit != nil {
		edit(&ten)
	}
	fs, base := faketest.Serve(t, ten)
	e := &env{t: t, fake: fs, base: base, tenant: ten, dir: t.TempDir(), logs: new(bytes.Buffer)}
	e.cfg = e.config()
	e.open()
	return e
}

// newHookEnv is newEnv with the tenant posting its webhooks to the
// returned listener, which a daemon then serves.
func newHookEnv(t *testing.T, candidates int, edit func(*fake.Tenant)) (*env, net.Listener) {
	t.Helper()
	ln, url := hookListener(t, "acme")
	e := newEnv(t, candidates, func(ten *fake.Tenant) {
		ten.WebhookURL = url
		if edit != nil {
			edit(ten)
		}
	})
	return e, ln
}

// hookListener opens the listener a daemon will serve and returns it with
// the webhook URL of account on it, for the fake tenant's WebhookURL.
func hookListener(t testing.TB, account string) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String() + "/webhooks/applicantstack/" + account
}

func (e *env) config() *sync.Config {
	cfg := sync.DefaultConfig()
	cfg.Warehouse = sync.WarehouseConfig{
		Path:           filepath.Join(e.dir, "wh.duckdb"),
		PublishedPath:  filepath.Join(e.dir, "published.duckdb"),
		ParquetDir:     filepath.Join(e.dir, "parquet"),
		AttachmentsDir: filepath.Join(e.dir, "files"),
	}
	if testing.Short() {
		// One DuckDB thread: on these small accounts a thread per core
		// costs the edit-test loop more CPU than it saves. The full run
		// keeps DuckDB's default.
		cfg.Warehouse.Threads = 1
	}
	cfg.Accounts = []sync.AccountConfig{e.accountConfig(e.tenant)}
	if err := sync.FinishConfig(cfg); err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

func (e *env) accountConfig(ten fake.Tenant) sync.AccountConfig {
	return sync.AccountConfig{
		Subdomain: ten.Subdomain, Token: applicantstack.Secret(ten.Token), BaseURL: e.base,
		TimeZone: ten.TimeZone, RequestsPerSecond: 10000, Burst: 100, Concurrency: 4,
		WebhookSecret: applicantstack.Secret(ten.WebhookSecret),
	}
}

// open opens the warehouse and a Syncer on it (again, after a Close).
func (e *env) open() {
	e.t.Helper()
	db, err := warehouse.Open(context.Background(), e.cfg.Warehouse.DSN())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	e.s = sync.NewSyncer(e.cfg, db)
	e.s.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.s.Publish = false
	e.s.BatchRows = 500
	e.s.DetailChunk = 300
}

// addAccount adds a fake tenant and its account to e's config.
func (e *env) addAccount(sub string, candidates int) {
	e.t.Helper()
	ten := fake.NewTenant(sub)
	ten.Jobs, ten.Candidates = 5, candidates
	if err := e.fake.AddTenant(ten); err != nil {
		e.t.Fatal(err)
	}
	a := e.accountConfig(ten)
	a.WebhookSecret = ""
	e.cfg.Accounts = append(e.cfg.Accounts, a)
	if err := sync.FinishConfig(e.cfg); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) account() *sync.AccountConfig { return &e.cfg.Accounts[0] }

// fastRetries makes the syncer's client retry at once, for fault tests.
func (e *env) fastRetries() {
	c := e.s.Client(e.account())
	c.MinBackoff, c.MaxBackoff, c.MaxRetries = time.Millisecond, 20*time.Millisecond, 10
}

func (e *env) mustRun(mode string) {
	e.t.Helper()
	if _, err := e.s.Run(context.Background(), e.account(), mode); err != nil {
		e.t.Fatalf("%s run: %v", mode, err)
	}
}

func (e *env) sql() *sql.DB { return e.db.SQL() }

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	return warehousetest.Count(e.t, e.sql(), q, args...)
}

// daemon returns a daemon over e serving ln with test-sized settings and
// the given schedule.
func (e *env) daemon(ln net.Listener, sched sync.ScheduleConfig) *Daemon {
	e.cfg.Schedule = sched
	d := New(e.cfg, e.db, e.s)
	d.Logger = e.s.Logger
	d.Listener = ln
	d.ShutdownTimeout = 5 * time.Second
	d.RefreshInterval = 100 * time.Millisecond
	d.FailureBackoff = 50 * time.Millisecond
	return d
}

// truth returns the fake's ground truth of a candidate, with its detail
// decoded as the client decodes it.
func (e *env) truth(serial string) (fake.CandidateTruth, applicantstack.Candidate) {
	e.t.Helper()
	ct, err := e.fake.Candidate(e.tenant.Subdomain, serial, e.base)
	if err != nil {
		e.t.Fatal(err)
	}
	var c applicantstack.Candidate
	if err := json.Unmarshal(ct.Detail, &c); err != nil {
		e.t.Fatal(err)
	}
	return ct, c
}

// stateOf renders the tables a resumed sync must leave as an
// uninterrupted one does, without the columns that legitimately differ
// (when rows were seen, run ids, download times) and with the fake's
// address replaced.
func (e *env) stateOf() string {
	e.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * EXCLUDE (first_seen_at, last_seen_at, remote_deleted_at), remote_deleted_at IS NOT NULL FROM jobs`,
		`SELECT * EXCLUDE (first_seen_at, last_seen_at, last_changed_at, remote_deleted_at), remote_deleted_at IS NOT NULL FROM candidates`,
		`SELECT candidate_id, job_id, stage, funnel_stage, changed_at, changed_by, origin FROM stage_events WHERE origin <> 'observed'`,
		`SELECT * EXCLUDE (downloaded_at, first_seen_at, last_seen_at, remote_deleted_at) FROM attachments`,
		`SELECT * EXCLUDE (first_seen_at, last_seen_at, remote_deleted_at), remote_deleted_at IS NOT NULL FROM hires`,
		`SELECT resource, remote_id, reason FROM rejected_records`,
	} {
		rows, err := e.sql().Query(q + ` ORDER BY ALL`)
		if err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		for rows.Next() {
			if err := rows.Scan(vals...); err != nil {
				e.t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(&b, "%v|", *v.(*any))
			}
			b.WriteByte('\n')
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return strings.ReplaceAll(b.String(), e.base, "BASE")
}

// missing returns up to three lines of a that b lacks.
func missing(a, b string) []string {
	in := make(map[string]bool)
	for _, l := range strings.Split(b, "\n") {
		in[l] = true
	}
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !in[l] && len(out) < 3 {
			out = append(out, l)
		}
	}
	return out
}

// TestMain fails the package if any goroutine outlives the tests. The
// tests that run in parallel rely on it; the others check themselves with
// noLeaks, test by test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// noLeaks fails the test if goroutines started after this call outlive it
// (Run must end every goroutine it started before it returns). Call it
// first: its cleanup then runs last, after the fake and the warehouse are
// closed. Tests that call it do not run in parallel: another test's
// goroutines would count as leaks.
func noLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// raceEnabled reports whether the test binary was built with -race, which
// makes the engine several times slower: the biggest tests scale down.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// start runs d until the returned stop is called; stop cancels Run's
// context, waits for Run and returns its error and how long it took.
func start(t *testing.T, d *Daemon) (stop func() (time.Duration, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, 10*time.Second, "daemon ready", func() bool {
		select {
		case err := <-done:
			t.Fatalf("daemon stopped at start: %v", err)
		default:
		}
		return d.ready.Load()
	})
	var stopped bool
	stop = func() (time.Duration, error) {
		if stopped {
			return 0, nil
		}
		stopped = true
		begin := time.Now()
		cancel()
		err := <-done
		return time.Since(begin), err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// get fetches a daemon URL path and returns the status and body.
func get(t testing.TB, d *Daemon, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.Addr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// runRow is a sync_runs row.
type runRow struct {
	mode, status      string
	started, finished time.Time
}

func (e *env) runs(account string) []runRow {
	e.t.Helper()
	rows, err := e.sql().Query(`SELECT mode, status, started_at, coalesce(finished_at, started_at)
		FROM sync_runs WHERE account_id = ? ORDER BY started_at`, account)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.mode, &r.status, &r.started, &r.finished); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// holder is an http.RoundTripper for the syncer's client that lets the
// first after requests under prefix through and holds the ones after them
// until open is called, closing held when it holds the first. A test waits
// on held to know a run is going and cannot finish: no timing involved.
type holder struct {
	next   http.RoundTripper
	prefix string
	after  int64
	seen   atomic.Int64
	once   stdsync.Once
	held   chan struct{}
	gate   chan struct{}
	opened stdsync.Once
}

// hold installs a holder on the syncer's client of e's account.
func (e *env) hold(prefix string, after int) *holder {
	h := &holder{next: http.DefaultTransport, prefix: prefix, after: int64(after),
		held: make(chan struct{}), gate: make(chan struct{})}
	e.s.Client(e.account()).HTTPClient = &http.Client{Transport: h, Timeout: time.Minute}
	return h
}

func (h *holder) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.Path, h.prefix) && h.seen.Add(1) > h.after {
		h.once.Do(func() { close(h.held) })
		select {
		case <-h.gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return h.next.RoundTrip(r)
}

// open lets every request through from now on.
func (h *holder) open() { h.opened.Do(func() { close(h.gate) }) }

// waitHeld waits until h holds a request.
func waitHeld(t *testing.T, h *holder, timeout time.Duration) {
	t.Helper()
	select {
	case <-h.held:
	case <-time.After(timeout):
		t.Fatalf("no request under %s held after %v", h.prefix, timeout)
	}
}
