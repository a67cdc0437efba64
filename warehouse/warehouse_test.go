package warehouse

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

var (
	t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Hour)
	t2 = t0.Add(2 * time.Hour)
)

// openTest opens a warehouse in a new temp dir, closed when t ends. In
// -short mode it runs one DuckDB thread: on these few rows a thread per
// core costs the edit-test loop more CPU than it saves. The full run keeps
// DuckDB's default.
func openTest(t testing.TB) *DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "wh", "stackhouse.duckdb")
	if testing.Short() {
		dsn += "?threads=1"
	}
	return openAt(t, dsn)
}

// openAt opens the warehouse at dsn ("" or ":memory:": in memory), closed
// when t ends.
func openAt(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func write(t testing.TB, db *DB, b *Batch) {
	t.Helper()
	if err := db.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func candidate(id string, mods ...func(*schema.Candidate)) schema.Candidate {
	c := schema.Candidate{
		CandidateID: id, JobID: "a2job1", FirstName: "Ann", Email: id + "@example.com",
		PersonKey: id + "@example.com", Stage: "Interview", FunnelStage: schema.FunnelInterviewed,
		AppliedAt: t0.Add(-48 * time.Hour), RowHash: "h-" + id,
		RemoteData: json.RawMessage(`{"Candidate Serial":"` + id + `"}`),
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

func event(cand, stage, funnel string, at time.Time) schema.StageEvent {
	return schema.StageEvent{CandidateID: cand, JobID: "a2job1", Stage: stage, FunnelStage: funnel,
		ChangedAt: at, ChangedBy: "Jane", Origin: schema.OriginNote}
}

// dump renders a table's rows in a stable order, for comparing contents.
func dump(t testing.TB, db *DB, table string) string {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT * FROM ` + table + ` ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// one returns a single value of a query.
func one[T any](t testing.TB, db *DB, query string, args ...any) T {
	t.Helper()
	var v T
	if err := db.SQL().QueryRow(query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "wh.duckdb")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	versions := len(schema.Migrations())
	if n := one[int](t, db, `SELECT count(*) FROM schema_migrations`); n != versions {
		t.Errorf("schema_migrations has %d rows, want %d", n, versions)
	}
	applied := one[time.Time](t, db, `SELECT max(applied_at) FROM schema_migrations`)
	for _, table := range schema.ContractTables() {
		one[int](t, db, `SELECT count(*) FROM `+table)
	}
	write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{candidate("a4one")}})
	db.Close()

	t.Run("reopen is a no-op", func(t *testing.T) {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if n := one[int](t, db, `SELECT count(*) FROM schema_migrations`); n != versions {
			t.Errorf("schema_migrations has %d rows after reopen, want %d", n, versions)
		}
		if again := one[time.Time](t, db, `SELECT max(applied_at) FROM schema_migrations`); !again.Equal(applied) {
			t.Errorf("a migration ran again at %v", again)
		}
		if n := one[int](t, db, `SELECT count(*) FROM candidates`); n != 1 {
			t.Errorf("candidates = %d after reopen, want 1", n)
		}
		if _, err := db.SQL().Exec(`INSERT INTO schema_migrations VALUES (9999, 'future', now())`); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("newer schema refused", func(t *testing.T) {
		_, err := Open(ctx, path)
		if !errors.Is(err, ErrNewerSchema) {
			t.Errorf("Open = %v, want ErrNewerSchema", err)
		}
	})
	t.Run("in memory", func(t *testing.T) {
		for _, p := range []string{"", ":memory:"} {
			db, err := Open(ctx, p)
			if err != nil {
				t.Fatalf("Open(%q): %v", p, err)
			}
			if n := one[int](t, db, `SELECT count(*) FROM schema_migrations`); n != versions {
				t.Errorf("Open(%q): %d migrations", p, n)
			}
			if tz := one[string](t, db, `SELECT current_setting('TimeZone')`); tz != "UTC" {
				t.Errorf("TimeZone = %q, want UTC", tz)
			}
			db.Close()
		}
	})
}

func TestDB_Checkpoint(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	c, err := db.Checkpoint(ctx, "acme", "candidates")
	if c != nil || err != nil {
		t.Fatalf("Checkpoint with none = %v, %v; want nil, nil", c, err)
	}
	write(t, db, &Batch{Account: "acme", RunID: "r1", At: t0,
		Checkpoint: &Checkpoint{Resource: "candidates", Mode: "backfill", State: json.RawMessage(`{"page":7}`)}})
	write(t, db, &Batch{Account: "beta", RunID: "r2", At: t1,
		Checkpoint: &Checkpoint{Resource: "candidates", Mode: "sync", State: json.RawMessage(`{"page":1}`)}})
	c, err = db.Checkpoint(ctx, "acme", "candidates")
	if err != nil {
		t.Fatal(err)
	}
	want := Checkpoint{Account: "acme", Resource: "candidates", RunID: "r1", Mode: "backfill", UpdatedAt: t0}
	if c == nil || c.Account != want.Account || c.RunID != want.RunID || c.Mode != want.Mode || !c.UpdatedAt.Equal(t0) {
		t.Fatalf("Checkpoint = %+v, want %+v", c, want)
	}
	var state map[string]int
	if err := json.Unmarshal(c.State, &state); err != nil || state["page"] != 7 {
		t.Errorf("state = %s", c.State)
	}
	write(t, db, &Batch{Account: "acme", RunID: "r1", At: t1,
		Checkpoint: &Checkpoint{Resource: "candidates", Mode: "backfill", State: json.RawMessage(`{"page":8}`)}})
	if c, _ := db.Checkpoint(ctx, "acme", "candidates"); !strings.Contains(string(c.State), "8") || !c.UpdatedAt.Equal(t1) {
		t.Errorf("checkpoint not replaced: %+v", c)
	}
	if err := db.ClearCheckpoint(ctx, "acme", "candidates"); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Checkpoint(ctx, "acme", "candidates"); c != nil || err != nil {
		t.Errorf("after ClearCheckpoint: %v, %v", c, err)
	}
	if c, _ := db.Checkpoint(ctx, "beta", "candidates"); c == nil {
		t.Error("ClearCheckpoint removed another account's checkpoint")
	}
}

func TestDB_Runs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	runs := []schema.Run{
		{RunID: "r1", AccountID: "acme", Mode: "backfill", StartedAt: t0},
		{RunID: "r2", AccountID: "acme", Mode: "sync", StartedAt: t1},
		{RunID: "r3", AccountID: "beta", Mode: "sync", StartedAt: t0},
	}
	for _, r := range runs {
		if err := db.StartRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	done := runs[1]
	done.FinishedAt, done.Pages, done.RowsNew, done.CompleteScan = t2, 12, 1100, true
	if err := db.FinishRun(ctx, done); err != nil {
		t.Fatal(err)
	}
	failed := runs[2]
	failed.Error = "candidate page 3: 503"
	if err := db.FinishRun(ctx, failed); err != nil {
		t.Fatal(err)
	}
	last, err := db.LastRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 {
		t.Fatalf("LastRuns = %+v, want one per account", last)
	}
	a, b := last[0], last[1]
	if a.RunID != "r2" || a.Status != schema.RunSucceeded || !a.FinishedAt.Equal(t2) || a.Pages != 12 || a.RowsNew != 1100 || !a.CompleteScan {
		t.Errorf("acme last run = %+v", a)
	}
	if b.RunID != "r3" || b.Status != schema.RunFailed || b.Error != failed.Error || b.FinishedAt.IsZero() || !b.StartedAt.Equal(t0) {
		t.Errorf("beta last run = %+v", b)
	}
	if n := one[int](t, db, `SELECT count(*) FROM sync_runs WHERE status = 'running'`); n != 1 {
		t.Errorf("%d running runs, want 1 (r1)", n)
	}
}

func TestDB_Webhooks(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	e := schema.WebhookEvent{EventID: "ev1", AccountID: "acme", ObjectType: "candidate", EventType: "stagechange",
		ObjectID: "a4one", Stage: "Interview", EventDate: t0, UserType: "USER",
		Payload: json.RawMessage(`{"Secret":"s3cret","Stage":"Interview"}`), ReceivedAt: t0}
	for i, want := range []bool{true, false} {
		got, err := db.InsertWebhookEvent(ctx, e)
		if err != nil || got != want {
			t.Fatalf("insert %d = %v, %v; want %v", i, got, err, want)
		}
	}
	e2 := e
	e2.EventID, e2.ReceivedAt = "ev2", t1
	if ok, err := db.InsertWebhookEvent(ctx, e2); !ok || err != nil {
		t.Fatalf("second event: %v, %v", ok, err)
	}
	if n := one[int](t, db, `SELECT count(*) FROM webhook_events WHERE json_type(payload) <> 'OBJECT'`); n != 0 {
		t.Errorf("%d payloads stored as JSON strings", n)
	}
	if s := dump(t, db, "webhook_events"); strings.Contains(s, "s3cret") {
		t.Errorf("the secret was stored: %s", s)
	}
	pending, err := db.PendingWebhookEvents(ctx, "acme")
	if err != nil || len(pending) != 2 || pending[0].EventID != "ev1" || !pending[0].EventDate.Equal(t0) {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	if err := db.MarkWebhookApplied(ctx, "acme", []string{"ev1"}, t2); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkWebhookApplied(ctx, "acme", []string{"ev1"}, t2.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	pending, _ = db.PendingWebhookEvents(ctx, "acme")
	if len(pending) != 1 || pending[0].EventID != "ev2" {
		t.Errorf("pending after apply = %+v", pending)
	}
	if at := one[time.Time](t, db, `SELECT applied_at FROM webhook_events WHERE event_id = 'ev1'`); !at.Equal(t2) {
		t.Errorf("applied_at = %v, want the first marking %v", at, t2)
	}
}

// TestOpen_upgrade opens a database a released stackhouse left at migration
// 0004, with runs recorded, and checks that the later migrations keep the
// runs and give sync_runs the columns and key a new database has.
func TestOpen_upgrade(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	old := openThrough(t, path, 4)
	if _, err := old.sql.ExecContext(ctx, `INSERT INTO sync_runs (run_id, account_id, mode, status, started_at, pages, error)
		VALUES ('r1', 'acme', 'sync', 'succeeded', ?, 7, NULL), ('r2', 'acme', 'sync', 'failed', ?, 2, 'page 3: 503')`, t0, t1); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db := openAt(t, path)
	runs := one[string](t, db, `SELECT string_agg(run_id || ':' || pages || ':' || coalesce(error, '-') || ':' ||
		files_pending || ':' || coalesce(warning, '-'), ' ' ORDER BY run_id) FROM sync_runs`)
	if want := "r1:7:-:0:- r2:2:page 3: 503:0:-"; runs != want {
		t.Errorf("runs after upgrade = %q, want %q", runs, want)
	}
	shape := func(db *DB) string {
		return one[string](t, db, `SELECT (SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
				coalesce(column_default, '-'), ', ' ORDER BY column_index) FROM duckdb_columns() WHERE table_name = 'sync_runs')
			|| ' | ' || (SELECT string_agg(constraint_text, ', ' ORDER BY constraint_text) FROM duckdb_constraints() WHERE table_name = 'sync_runs')`)
	}
	if got, want := shape(db), shape(openAt(t, "")); got != want {
		t.Errorf("sync_runs after upgrade:\n%s\nnew database:\n%s", got, want)
	}
	// The key still holds: finishing r1 updates it in place.
	if err := db.FinishRun(ctx, schema.Run{RunID: "r1", AccountID: "acme", Mode: "sync", StartedAt: t0, FinishedAt: t2, Pages: 9, FilesPending: 3}); err != nil {
		t.Fatal(err)
	}
	if n := one[int](t, db, `SELECT count(*) FROM sync_runs WHERE run_id = 'r1' AND pages = 9 AND files_pending = 3`); n != 1 {
		t.Errorf("%d rows for r1 after FinishRun, want 1 updated", n)
	}
}

// TestOpen_upgrade_remoteDataFSST opens a database left at migration 0006,
// with synced and landed rows, and checks that 0007 keeps every row and the
// shape of every table it rebuilds (columns in order, types, nullability,
// constraints: as a new database has them), and that remote_data is then
// stored with FSST: 3 distinct records over 3,000 rows, which DuckDB
// stores dictionary-compressed before the migration.
func TestOpen_upgrade_remoteDataFSST(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	old := openThrough(t, path, 6)
	fill := func(db *DB, account string) {
		b := &Batch{Account: account, At: t0}
		for i := range 3000 {
			id := fmt.Sprintf("a4%06d", i)
			b.Candidates = append(b.Candidates, candidate(id, func(c *schema.Candidate) {
				c.RemoteData = json.RawMessage(fmt.Sprintf(`{"Source":"board %d"}`, i%3))
			}))
		}
		b.Jobs = []schema.Job{{JobID: "a2job1", Name: "Nurse", RowHash: "j", RemoteData: json.RawMessage(`{"Job Serial":"a2job1"}`)}}
		if err := db.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		// A stage event as a schema-6 database holds it: Write would also
		// build its stage_stints (0008).
		if _, err := db.sql.ExecContext(ctx, `INSERT INTO stage_events VALUES ($1, 'a4000001', NULL, 'New', 'applied', $2, NULL, 'note')`,
			account, t0); err != nil {
			t.Fatal(err)
		}
		landed := &Batch{Account: account, At: t1, Candidates: []schema.Candidate{candidate("a4landed")}}
		if err := db.Land(ctx, landed); err != nil {
			t.Fatal(err)
		}
		if _, err := db.sql.ExecContext(ctx, `CHECKPOINT`); err != nil {
			t.Fatal(err)
		}
	}
	compression := func(db *DB) string {
		return one[string](t, db, `SELECT string_agg(DISTINCT compression, ',' ORDER BY compression)
			FROM pragma_storage_info('candidates') WHERE column_name = 'remote_data' AND segment_type <> 'VALIDITY'`)
	}
	fill(old, "acme")
	if got := compression(old); got != "Dictionary" {
		t.Fatalf("before 0007, remote_data of 3 distinct records is stored %q, want Dictionary (the check below would prove nothing)", got)
	}
	tables := []string{"jobs", "candidates", "attachments", "hires", "stage_events",
		landSchema + ".land_jobs", landSchema + ".land_candidates", landSchema + ".land_attachments", landSchema + ".land_hires"}
	before := map[string]string{}
	for _, table := range tables {
		before[table] = dump(t, old, table)
	}
	old.Close()

	db := openAt(t, path)
	for _, table := range tables {
		if got := dump(t, db, table); got != before[table] {
			t.Errorf("%s after 0007:\n%s\nbefore:\n%s", table, got, before[table])
		}
	}
	shape := func(db *DB, table string) string {
		schemaName, name := "main", table
		if s, n, ok := strings.Cut(table, "."); ok {
			schemaName, name = s, n
		}
		return one[string](t, db, `SELECT (SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
				coalesce(column_default, '-'), ', ' ORDER BY column_index) FROM duckdb_columns() WHERE schema_name = $1 AND table_name = $2)
			|| ' | ' || coalesce((SELECT string_agg(constraint_text, ', ' ORDER BY constraint_text) FROM duckdb_constraints()
				WHERE schema_name = $1 AND table_name = $2), '')`, schemaName, name)
	}
	fresh := openAt(t, "")
	oldShape := openThrough(t, filepath.Join(t.TempDir(), "v6.duckdb"), 6)
	defer oldShape.Close()
	for _, table := range tables {
		if got, want := shape(db, table), shape(fresh, table); got != want {
			t.Errorf("%s after 0007:\n%s\nnew database:\n%s", table, got, want)
		}
		if got, want := shape(db, table), shape(oldShape, table); got != want {
			t.Errorf("%s after 0007:\n%s\nbefore it:\n%s", table, got, want)
		}
	}
	fill(db, "beta")
	if got := compression(db); got != "FSST" {
		t.Errorf("after 0007, remote_data is stored %q, want FSST only", got)
	}
}

// TestOpenWith_logsUpgrade checks that an upgrade says which migration it
// applies, before and after (a large table's rebuild takes a while), and
// that a new or up-to-date database says nothing.
func TestOpenWith_logsUpgrade(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	open := func(path string) {
		t.Helper()
		db, err := OpenWith(ctx, path, OpenOptions{Log: log})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	open(filepath.Join(dir, "new.duckdb"))
	if buf.Len() > 0 {
		t.Errorf("a new database logged:\n%s", &buf)
	}
	path := filepath.Join(dir, "old.duckdb")
	openThrough(t, path, 6).Close()
	open(path)
	got := buf.String()
	for _, want := range []string{`msg="upgrading the warehouse schema" migration=0007_remote_data_fsst from_version=6`,
		`msg="upgraded the warehouse schema" migration=0007_remote_data_fsst took=`,
		`msg="upgrading the warehouse schema" migration=0008_stage_stints from_version=6`,
		`msg="upgraded the warehouse schema" migration=0008_stage_stints took=`} {
		if !strings.Contains(got, want) {
			t.Errorf("upgrade log lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 4 {
		t.Errorf("upgrade logged %d lines, want 2 per migration applied (0007, 0008):\n%s", n, got)
	}
	buf.Reset()
	open(path)
	if buf.Len() > 0 {
		t.Errorf("an up-to-date database logged:\n%s", &buf)
	}
}

// openThrough opens the database at path migrated through migration n only,
// as an older stackhouse left it. The caller closes it.
func openThrough(t *testing.T, path string, n int) *DB {
	t.Helper()
	connector, err := newConnector(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db := &DB{sql: sql.OpenDB(connector), path: path}
	if err := db.migrate(t.Context(), schema.Migrations()[:n]); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return db
}

// TestOpen_rowGroupSize checks the file is attached with row groups of
// rowGroupRows of its memory_limit (or the path's row_group_size) rows,
// that CHECKPOINT and Close reach the file (not the in-memory instance it
// is attached to), and that a publish can copy the file.
func TestOpen_rowGroupSize(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	groups := func(t *testing.T, path string) (rows, n int) {
		t.Helper()
		ro, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if err := ro.QueryRow(`SELECT max(count), count(DISTINCT row_group_id)
			FROM pragma_storage_info('t') WHERE column_name = 'i'`).Scan(&rows, &n); err != nil {
			t.Fatal(err)
		}
		return rows, n
	}
	for i, tc := range []struct {
		settings string
		rows     int
	}{
		{"", SmallRowGroupRows}, // DuckDB's default memory_limit: 80% of RAM
		{"?memory_limit=256MB", SmallRowGroupRows},
		{"?memory_limit=128MB", DuckDBRowGroupRows},
		{"?row_group_size=4096&memory_limit=128MB&threads=1", 4096},
	} {
		path := filepath.Join(dir, fmt.Sprint(i), "wh.duckdb")
		db, err := Open(ctx, path+tc.settings)
		if err != nil {
			t.Fatal(err)
		}
		if name := one[string](t, db, `SELECT current_database()`); name != "wh" {
			t.Errorf("current_database() = %q, want wh", name)
		}
		if _, err := db.sql.ExecContext(ctx, `CREATE TABLE t AS SELECT range AS i FROM range(125000)`); err != nil {
			t.Fatal(err)
		}
		copied, err := db.copyFile(ctx, filepath.Join(filepath.Dir(path), "copy.duckdb"))
		if err != nil || !copied {
			t.Errorf("copyFile = %v, %v; want the checkpointed file copied", copied, err)
		}
		if _, err := db.sql.ExecContext(ctx, `INSERT INTO t SELECT range FROM range(125000, 135000)`); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + ".wal"); !os.IsNotExist(err) {
			t.Errorf("a WAL is left after Close (%v): the file was not checkpointed", err)
		}
		if rows, n := groups(t, path); rows != tc.rows || n < 135000/tc.rows {
			t.Errorf("%q: %d row groups of up to %d rows; want %d rows each", tc.settings, n, rows, tc.rows)
		}
	}
	for _, bad := range []string{"?row_group_size=1000", "?row_group_size=many", "?row_group_size=0"} {
		if _, err := Open(ctx, filepath.Join(dir, "bad", "wh.duckdb")+bad); err == nil || !strings.Contains(err.Error(), "row_group_size") {
			t.Errorf("Open(%s) = %v, want an error naming row_group_size", bad, err)
		}
	}
	if got := catalogName("/x/memory.duckdb"); got != "warehouse_memory" {
		t.Errorf("catalogName(memory.duckdb) = %q", got)
	}
}

// TestOpen_threads checks a file database runs at most one DuckDB thread
// per MemoryPerThread of memory_limit, unless its settings name threads.
func TestOpen_threads(t *testing.T) {
	ctx := context.Background()
	for i, tc := range []struct {
		settings string
		want     int64
	}{
		{"?memory_limit=64MB&threads=2", 2},
		{"?memory_limit=64MB", 1},
		{"?memory_limit=100MB&threads=4", 4},
		{"?memory_limit=100MB", min(2, int64(runtime.NumCPU()))},
		{"?memory_limit=4GB", int64(runtime.NumCPU())},
	} {
		db, err := Open(ctx, filepath.Join(t.TempDir(), fmt.Sprint(i), "wh.duckdb")+tc.settings)
		if err != nil {
			t.Fatal(err)
		}
		if got := one[int64](t, db, `SELECT current_setting('threads')::BIGINT`); got != tc.want {
			t.Errorf("%s: %d threads, want %d", tc.settings, got, tc.want)
		}
		db.Close()
	}
}
