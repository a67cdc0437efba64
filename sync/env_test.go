package sync

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// env is a fake ApplicantStack over loopback HTTP, a config pointing at it,
// a real DuckDB warehouse in a temp dir and a Syncer.
type env struct {
	t      testing.TB
	fake   *fake.Server
	base   string
	tenant fake.Tenant
	cfg    *Config
	dir    string
	db     *warehouse.DB
	s      *Syncer
	logs   *bytes.Buffer
}

func newEnv(t testing.TB, candidates int, edit func(*fake.Tenant)) *env {
	t.Helper()
	fs := fake.NewServer()
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates, ten.CustomFields = 15, candidates, true
	ten.WebhookSecret = "hook-secret-do-not-leak"
	if edit != nil {
		edit(&ten)
	}
	if err := fs.AddTenant(ten); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(fs)
	t.Cleanup(func() { hs.Close(); fs.Close() })
	e := &env{t: t, fake: fs, base: hs.URL, tenant: ten, dir: t.TempDir(), logs: new(bytes.Buffer)}
	e.cfg = e.config()
	e.open()
	return e
}

func (e *env) config() *Config {
	cfg := DefaultConfig()
	cfg.Warehouse = WarehouseConfig{
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
	cfg.Accounts = []AccountConfig{{
		Subdomain: e.tenant.Subdomain, Token: applicantstack.Secret(e.tenant.Token), BaseURL: e.base,
		TimeZone: e.tenant.TimeZone, RequestsPerSecond: 10000, Burst: 100, Concurrency: 4,
		WebhookSecret: applicantstack.Secret(e.tenant.WebhookSecret),
	}}
	if err := FinishConfig(cfg); err != nil {
		e.t.Fatal(err)
	}
	return cfg
}

func (e *env) open() {
	e.t.Helper()
	if m := os.Getenv("STACKHOUSE_BENCH_MEMORY_LIMIT"); m != "" {
		e.cfg.Warehouse.MemoryLimit = m
	}
	db, err := warehouse.Open(context.Background(), e.cfg.Warehouse.DSN())
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	e.s = NewSyncer(e.cfg, db)
	e.s.Logger = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.s.Publish = false
	e.s.BatchRows = 500
	e.s.DetailChunk = 300
}

func (e *env) account() *AccountConfig { return &e.cfg.Accounts[0] }

// client returns the syncer's client with fast retries for fault tests.
func (e *env) fastRetries() {
	c := e.s.Client(e.account())
	c.MinBackoff, c.MaxBackoff, c.MaxRetries = time.Millisecond, 20*time.Millisecond, 10
}

func (e *env) run(mode string) Result {
	e.t.Helper()
	r, err := e.s.run(context.Background(), e.account(), mode)
	return Result{Run: r, Err: err}
}

func (e *env) mustRun(mode string) Result {
	e.t.Helper()
	res := e.run(mode)
	if res.Err != nil {
		e.t.Fatalf("%s run: %v", mode, res.Err)
	}
	return res
}

// deleteCandidates deletes the candidates from the fake tenant.
func (e *env) deleteCandidates(serials []string) {
	e.t.Helper()
	for _, s := range serials {
		if err := e.fake.DeleteCandidate(e.tenant.Subdomain, s); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) sql() *sql.DB { return e.db.SQL() }

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	return warehousetest.Count(e.t, e.sql(), q, args...)
}

// dump renders the warehouse's contract tables in a canonical text form
// without the columns that legitimately differ between two equivalent
// runs (when rows were seen, run ids, download times).
func (e *env) dump() string {
	e.t.Helper()
	// stage_stints is derived from stage_events by each merge, for the
	// applications it stores events of: whatever the runs, kills and faults
	// were, it must equal a rebuild from every stored event.
	var drift int
	if err := e.sql().QueryRow(`SELECT count(*) FROM (
			(FROM stage_stints EXCEPT ALL FROM stage_stints_for('stage_events'))
			UNION ALL
			(FROM stage_stints_for('stage_events') EXCEPT ALL FROM stage_stints))`).Scan(&drift); err != nil {
		e.t.Fatal(err)
	}
	if drift != 0 {
		e.t.Errorf("stage_stints differs from a rebuild from stage_events in %d rows", drift)
	}
	queries := []string{
		`SELECT job_id, code, name, status, remote_stage, department, location, category, job_type, salary_range,
		        description, opened_at, remote_created_at, remote_updated_at, remote_data, remote_deleted_at IS NOT NULL
		 FROM jobs ORDER BY job_id`,
		`SELECT candidate_id, job_id, person_key, first_name, last_name, email, phone, city, state, zip, source,
		        referred_by, rating, disposition, stage, stage_type, funnel_stage, score, applied_at, hired_at, rejected_at,
		        row_hash, detail_hash, remote_data, remote_deleted_at IS NOT NULL
		 FROM candidates ORDER BY candidate_id`,
		`SELECT candidate_id, job_id, stage, funnel_stage, changed_at, changed_by, origin
		 FROM stage_events WHERE origin <> 'observed' ORDER BY ALL`,
		`SELECT attachment_id, candidate_id, file_name, attachment_type, content_type, size_bytes, sha256, blob_path
		 FROM attachments ORDER BY attachment_id`,
		`SELECT hire_id, candidate_id, first_name, last_name, email, job_name, department, location, hire_date,
		        start_date, stage, manager, pay_rate, remote_data, remote_deleted_at IS NOT NULL
		 FROM hires ORDER BY hire_id`,
		`SELECT resource, remote_id, reason FROM rejected_records ORDER BY ALL`,
	}
	var b strings.Builder
	for _, q := range queries {
		rows, err := e.sql().Query(q)
		if err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				e.t.Fatal(err)
			}
			for i, v := range vals {
				if i > 0 {
					b.WriteByte('|')
				}
				switch x := v.(type) {
				case time.Time:
					b.WriteString(x.UTC().Format(time.RFC3339))
				case []byte:
					b.Write(x)
				default:
					fmt.Fprint(&b, x)
				}
			}
			b.WriteByte('\n')
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// truthDetail returns a candidate's detail object from the fake.
func (e *env) truthDetail(serial string) (fake.CandidateTruth, map[string]any) {
	e.t.Helper()
	ct, err := e.fake.Candidate(e.tenant.Subdomain, serial, e.base)
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(ct.Detail, &m); err != nil {
		e.t.Fatal(err)
	}
	return ct, m
}

func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(applicantstackText(s))
}

func applicantstackText(s string) string {
	var t applicantstack.Text
	b, _ := json.Marshal(s)
	json.Unmarshal(b, &t)
	return string(t)
}

func jsonUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func jsonUnmarshalQuiet(b []byte, v any) error { return json.Unmarshal(b, v) }
