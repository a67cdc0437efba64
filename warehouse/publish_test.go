package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// seed writes n candidates of account through the real mapper, from
// records that carry the fake SSNs and birth dates ApplicantStack sends.
func seed(t testing.TB, db *DB, account string, from, n int, at time.Time) {
	t.Helper()
	m := schema.Mapper{Account: account}
	b := &Batch{Account: account, RunID: "run-" + account, At: at}
	job := applicantstack.Job{Serial: applicantstack.Text("a2" + account), Name: "CNA", Stage: "Open", CreateDate: "06/17/2020 11:10 AM",
		Raw: json.RawMessage(`{"Job Serial":"a2` + account + `","Job Name":"CNA"}`)}
	j, err := m.MapJob(job)
	if err != nil {
		t.Fatal(err)
	}
	b.Jobs = append(b.Jobs, j)
	for i := from; i < from+n; i++ {
		raw := fmt.Sprintf(`{"Candidate Serial":"a4%s%04d","Job Serial":"a2%s","Email":"p%d@example.com","Stage":"Hired",
			"Stage Type":"Hired","Create Date Timestamp":1587738635,
			"Notes":[{"text":"SSN on file 900-%02d-1234","type":"System","timestamp":1587738635},
				{"text":"Jane set Stage to Hired","type":"System","timestamp":1587800000}],
			"Files":[{"name":"r.pdf","url":"https://%s.applicantstack.com/x/attachment/a6%s%04d?apikey=deadbeef","is_resume":1}],
			"Questionnaires":[{"Questions":[{"Question":"Social Security Number","Value":"900-%02d-5678"}]}]}`,
			account, i, account, i, i%100, account, account, i, i%100)
		var rec applicantstack.Candidate
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatal(err)
		}
		rec.Raw = json.RawMessage(raw)
		c, err := m.MapCandidate(rec)
		if err != nil {
			t.Fatal(err)
		}
		c.DetailHash = c.RowHash
		b.Candidates = append(b.Candidates, c)
		b.StageEvents = append(b.StageEvents, m.StageEvents(rec)...)
		a, err := m.MapAttachment(rec, rec.Files[0])
		if err != nil {
			t.Fatal(err)
		}
		b.Attachments = append(b.Attachments, a)
		hireRaw := fmt.Sprintf(`{"Hire Serial":"e2%s%04d","Candidate Serial":"a4%s%04d","SSN":"900-%02d-4321","DOB":"01/02/1990",
			"Date of Hire":"06/09/2020","Forms":[{"Form Name":"W-4","Questions":[{"Question":"SSN","Value":"900-11-1111"}]}]}`,
			account, i, account, i, i%100)
		var hr applicantstack.Hire
		if err := json.Unmarshal([]byte(hireRaw), &hr); err != nil {
			t.Fatal(err)
		}
		hr.Raw = json.RawMessage(hireRaw)
		h, err := m.MapHire(hr)
		if err != nil {
			t.Fatal(err)
		}
		b.Hires = append(b.Hires, h)
	}
	b.Rejected = append(b.Rejected, m.Reject(b.RunID, "hire", "e2bad", json.RawMessage(`{"SSN":"900-99-9999"}`), fmt.Errorf("bad date")))
	write(t, db, b)
	ctx := context.Background()
	if _, err := db.InsertWebhookEvent(ctx, schema.WebhookEvent{EventID: "ev-" + account, AccountID: account,
		Payload: json.RawMessage(`{"Secret":"x","note":"900-12-3456"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, schema.Run{RunID: b.RunID, AccountID: account, Mode: "sync", StartedAt: at}); err != nil {
		t.Fatal(err)
	}
}

// reader is a separate DuckDB, as a BI tool would be.
func reader(t testing.TB) *sql.DB {
	t.Helper()
	r, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func parquetCounts(t testing.TB, r *sql.DB, root, table string) (map[string]int, error) {
	t.Helper()
	// account_id comes from inside the files, not from their paths.
	rows, err := r.Query(`SELECT account_id, count(*) FROM read_parquet(?, hive_partitioning = false) GROUP BY ALL`,
		filepath.Join(root, table, "*", "*.parquet"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, err
		}
		counts[a] = n
	}
	return counts, rows.Err()
}

func liveCounts(t testing.TB, db *DB, table string) map[string]int {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT account_id, count(*) FROM ` + table + ` GROUP BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var a string
		var n int
		rows.Scan(&a, &n)
		counts[a] = n
	}
	return counts
}

func TestDB_Publish(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seed(t, db, "acme", 0, 5, t0)
	seed(t, db, "beta", 0, 3, t0)
	for _, v := range []string{
		`CREATE VIEW metric_candidates AS SELECT account_id, count(*) AS n FROM candidates GROUP BY ALL`,
		`CREATE VIEW metric_total AS SELECT sum(n) AS total FROM metric_candidates`,
	} {
		if _, err := db.SQL().Exec(v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	copyPath, root := filepath.Join(dir, "published", "stackhouse.duckdb"), filepath.Join(dir, "parquet")
	if _, err := db.Publish(ctx, PublishOptions{ReadOnlyPath: copyPath, ParquetDir: root}); err != nil {
		t.Fatal(err)
	}

	t.Run("read-only copy", func(t *testing.T) {
		ro := warehousetest.OpenCopy(t, copyPath)
		tables := append(schema.ContractTables(), "sync_checkpoints", "schema_migrations")
		for _, table := range tables {
			var got int
			if err := ro.QueryRow(`SELECT count(*) FROM ` + table).Scan(&got); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			if want := one[int](t, db, `SELECT count(*) FROM `+table); got != want {
				t.Errorf("%s: copy has %d rows, live %d", table, got, want)
			}
			var leaks int
			if err := ro.QueryRow(`SELECT count(*) FROM ` + table + ` t WHERE t::VARCHAR LIKE '%900-%'`).Scan(&leaks); err != nil || leaks != 0 {
				t.Errorf("%s: %d rows with an SSN (%v)", table, leaks, err)
			}
		}
		var total int
		if err := ro.QueryRow(`SELECT total FROM metric_total`).Scan(&total); err != nil || total != 8 {
			t.Errorf("metric_total in the copy = %d, %v; want 8", total, err)
		}
		if _, err := ro.Exec(`CREATE TABLE x (a INT)`); err == nil {
			t.Error("the copy accepts writes")
		}
		// Republishing replaces the file under an open reader.
		seed(t, db, "acme", 5, 1, t1)
		if _, err := db.Publish(ctx, PublishOptions{ReadOnlyPath: copyPath}); err != nil {
			t.Fatal(err)
		}
		if err := ro.QueryRow(`SELECT total FROM metric_total`).Scan(&total); err != nil || total != 8 {
			t.Errorf("open reader after republish: %d, %v; want its old snapshot, 8", total, err)
		}
		// duckdb-go shares one instance per path within a process; a BI
		// tool is another process. Close ours to open the file afresh.
		ro.Close()
		ro2 := warehousetest.OpenCopy(t, copyPath)
		if err := ro2.QueryRow(`SELECT total FROM metric_total`).Scan(&total); err != nil || total != 9 {
			t.Errorf("new reader after republish: %d, %v; want 9", total, err)
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(copyPath), ".*"))
		if len(leftovers) != 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	})

	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root}); err != nil {
		t.Fatal(err)
	}
	r := reader(t)
	t.Run("parquet", func(t *testing.T) {
		for _, table := range schema.ContractTables() {
			got, err := parquetCounts(t, r, root, table)
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			want := liveCounts(t, db, table)
			for a := range got { // empty files stand for accounts without rows
				if got[a] == 0 && want[a] == 0 {
					delete(got, a)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: parquet %v, live %v", table, got, want)
			}
			var leaks int
			glob := filepath.Join(root, table, "*", "*.parquet")
			if err := r.QueryRow(`SELECT count(*) FROM read_parquet(?) p WHERE p::VARCHAR LIKE '%900-%'`, glob).Scan(&leaks); err != nil || leaks != 0 {
				t.Errorf("%s: %d Parquet rows with an SSN (%v)", table, leaks, err)
			}
			files, _ := filepath.Glob(glob)
			if len(files) != 2 {
				t.Errorf("%s: files %v, want one per account", table, files)
			}
		}
		var kind string
		err := r.QueryRow(`SELECT json_type(remote_data::JSON) FROM read_parquet(?) LIMIT 1`,
			filepath.Join(root, "candidates", "account_id=acme", "data.parquet")).Scan(&kind)
		if err != nil || kind != "OBJECT" {
			t.Errorf("remote_data in Parquet: %q, %v", kind, err)
		}
		if staged, _ := os.ReadDir(filepath.Join(root, "_staging")); len(staged) != 0 {
			t.Errorf("staging left behind: %v", staged)
		}
	})

	t.Run("layout", func(t *testing.T) {
		// Every file carries account_id, equal to its partition directory.
		for _, table := range schema.ContractTables() {
			var bad int
			if err := r.QueryRow(`SELECT count(*) FROM read_parquet(?, hive_partitioning = false, filename = true)
				WHERE filename NOT LIKE '%/account_id=' || account_id || '/data.parquet'`,
				filepath.Join(root, table, "*", "*.parquet")).Scan(&bad); err != nil || bad != 0 {
				t.Errorf("%s: %d rows whose account_id differs from their partition (%v)", table, bad, err)
			}
		}
		// Read as a hive dataset: account_id is a VARCHAR column (no
		// hive_types needed), and no column named table appears.
		var typ string
		var n int
		if err := r.QueryRow(`SELECT any_value(typeof(account_id)), count(*) FROM read_parquet(?, hive_partitioning = true)`,
			filepath.Join(root, "candidates", "*", "*.parquet")).Scan(&typ, &n); err != nil || typ != "VARCHAR" || n != one[int](t, db, `SELECT count(*) FROM candidates`) {
			t.Errorf("hive read: account_id %s, %d rows, %v", typ, n, err)
		}
		var tableCols int
		if err := r.QueryRow(`SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet(?, hive_partitioning = true))
			WHERE column_name = 'table'`, filepath.Join(root, "candidates", "*", "*.parquet")).Scan(&tableCols); err != nil || tableCols != 0 {
			t.Errorf("a column named table: %d, %v", tableCols, err)
		}
		// Parquet types: timestamps UTC microseconds, remote_data JSON.
		want := map[string]string{
			"account_id":  "UTF8",
			"applied_at":  "TIMESTAMP_MICROS",
			"remote_data": "JSON",
		}
		rows, err := r.Query(`SELECT name, converted_type, logical_type::VARCHAR FROM parquet_schema(?)`,
			ParquetFile(root, "candidates", "acme"))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]string{}
		for rows.Next() {
			var name string
			var conv, logical sql.NullString
			if err := rows.Scan(&name, &conv, &logical); err != nil {
				t.Fatal(err)
			}
			if _, ok := want[name]; ok {
				got[name] = conv.String
			}
			if conv.String == "TIMESTAMP_MICROS" && !strings.Contains(logical.String, "isAdjustedToUTC=1") {
				t.Errorf("%s: %s is not adjusted to UTC", name, logical.String)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parquet types %v, want %v", got, want)
		}
	})

	t.Run("publishing one account keeps the others", func(t *testing.T) {
		acme := filepath.Join(root, "candidates", "account_id=acme", "data.parquet")
		before, err := os.Stat(acme)
		if err != nil {
			t.Fatal(err)
		}
		seed(t, db, "beta", 3, 2, t1)
		if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{"beta"}}); err != nil {
			t.Fatal(err)
		}
		after, err := os.Stat(acme)
		if err != nil || !os.SameFile(before, after) {
			t.Errorf("acme's partition was rewritten or removed (%v)", err)
		}
		got, err := parquetCounts(t, r, root, "candidates")
		if err != nil || !reflect.DeepEqual(got, map[string]int{"acme": 6, "beta": 5}) {
			t.Errorf("candidates = %v, %v; want acme 6, beta 5", got, err)
		}
	})

	t.Run("shard workers share a tree", func(t *testing.T) {
		other := openTest(t)
		seed(t, other, "gamma", 0, 4, t0)
		if _, err := other.SQL().Exec(`INSERT INTO jobs (account_id, job_id, first_seen_at, last_seen_at) VALUES ('delta', 'a2d', now(), now())`); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Publish(ctx, PublishOptions{ParquetDir: root}); err != nil {
			t.Fatal(err)
		}
		got, err := parquetCounts(t, r, root, "candidates")
		if err != nil || !reflect.DeepEqual(got, map[string]int{"acme": 6, "beta": 5, "gamma": 4}) {
			t.Errorf("candidates = %v, %v", got, err)
		}
		// delta has a job and nothing else: its other partitions are empty
		// files that still carry the table's columns.
		var n, cols int
		empty := filepath.Join(root, "hires", "account_id=delta", "data.parquet")
		if err := r.QueryRow(`SELECT count(*) FROM read_parquet(?)`, empty).Scan(&n); err != nil || n != 0 {
			t.Errorf("delta hires: %d rows, %v", n, err)
		}
		if err := r.QueryRow(`SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet(?))`, empty).Scan(&cols); err != nil || cols < 10 {
			t.Errorf("empty hires file has %d columns, %v", cols, err)
		}
	})

	t.Run("stale staging removed", func(t *testing.T) {
		staging := filepath.Join(root, "_staging")
		stale, fresh := filepath.Join(staging, "publish-crashed"), filepath.Join(staging, "publish-running")
		for _, d := range []string{stale, fresh} {
			if err := os.MkdirAll(filepath.Join(d, "jobs"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		old := time.Now().Add(-StaleStagingAge - time.Hour)
		os.Chtimes(stale, old, old)
		if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{"acme"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Error("stale staging kept")
		}
		if _, err := os.Stat(fresh); err != nil {
			t.Error("another worker's staging removed")
		}
	})

	t.Run("bad account names", func(t *testing.T) {
		for _, a := range []string{"../x", "a/b", ".hidden", "a=b", ""} {
			if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{a}}); err == nil {
				t.Errorf("Publish accepted account %q", a)
			}
		}
	})
}

// TestDB_Publish_atomic swaps partitions while a reader keeps globbing them:
// every read must succeed and see one published state of each account.
func TestDB_Publish_atomic(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	root := filepath.Join(t.TempDir(), "parquet")
	seed(t, db, "acme", 0, 20, t0)
	seed(t, db, "beta", 0, 7, t0)
	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root}); err != nil {
		t.Fatal(err)
	}
	r := reader(t)
	var (
		mu      sync.Mutex
		allowed = map[int]bool{27: true}
		stop    = make(chan struct{})
		done    = make(chan error)
		reads   int
	)
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			var n int
			err := r.QueryRow(`SELECT count(*) FROM read_parquet(?, hive_partitioning = true)`,
				filepath.Join(root, "candidates", "*", "*.parquet")).Scan(&n)
			mu.Lock()
			ok := allowed[n]
			reads++
			mu.Unlock()
			if err != nil || !ok {
				done <- fmt.Errorf("read %d rows, %v; allowed %v", n, err, allowed)
				return
			}
		}
	}()
	for round := 1; round <= 6; round++ {
		mu.Lock()
		allowed[27+round*3] = true // before the swap: a reader may already see it
		mu.Unlock()
		seed(t, db, "acme", 20+(round-1)*3, 3, t0.Add(time.Duration(round)*time.Minute))
		if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{"acme"}}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if reads == 0 {
		t.Fatal("the reader never read")
	}
	files, _ := filepath.Glob(filepath.Join(root, "candidates", "account_id=acme", "*"))
	if len(files) != 1 {
		t.Errorf("acme partition holds %v, want only data.parquet", files)
	}
	t.Logf("%d concurrent reads", reads)
}

func TestDB_Publish_inMemory(t *testing.T) {
	ctx := context.Background()
	db := openAt(t, ":memory:")
	seed(t, db, "acme", 0, 2, t0)
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "copy.duckdb")
	if _, err := db.Publish(ctx, PublishOptions{ReadOnlyPath: copyPath, ParquetDir: filepath.Join(dir, "pq")}); err != nil {
		t.Fatal(err)
	}
	ro := warehousetest.OpenCopy(t, copyPath)
	var n int
	if err := ro.QueryRow(`SELECT count(*) FROM candidates`).Scan(&n); err != nil || n != 2 {
		t.Errorf("copy of an in-memory database: %d candidates, %v", n, err)
	}
	if got, err := parquetCounts(t, reader(t), filepath.Join(dir, "pq"), "candidates"); err != nil || got["acme"] != 2 {
		t.Errorf("parquet of an in-memory database: %v, %v", got, err)
	}
}

func TestDB_Publish_refusesLivePath(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "live.duckdb")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Publish(ctx, PublishOptions{ReadOnlyPath: path}); err == nil {
		t.Error("Publish replaced the live database")
	}
}

// TestDB_Publish_oldLayout checks the move from the earlier layout
// (table=<table>/account_id=…): the published accounts' old partitions go,
// another shard's stay.
func TestDB_Publish_oldLayout(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seed(t, db, "acme", 0, 2, t0)
	root := filepath.Join(t.TempDir(), "pq")
	old := func(table, account string) string {
		return filepath.Join(root, "table="+table, "account_id="+account, "data.parquet")
	}
	for _, f := range []string{old("candidates", "acme"), old("candidates", "zeta"), old("jobs", "acme")} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{"acme"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ParquetFile(root, "candidates", "acme")); err != nil {
		t.Errorf("new layout not written: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(old("candidates", "acme"))); !os.IsNotExist(err) {
		t.Errorf("acme's old candidates partition kept (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(root, "table=jobs")); !os.IsNotExist(err) {
		t.Errorf("the emptied table=jobs directory kept (%v)", err)
	}
	if _, err := os.Stat(old("candidates", "zeta")); err != nil {
		t.Errorf("another shard's old partition removed: %v", err)
	}
}

func TestDB_LastPublish(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if last, ok, err := db.LastPublish(ctx); err != nil || !last.FinishedAt.IsZero() || !ok.FinishedAt.IsZero() {
		t.Fatalf("before any publish: %+v %+v %v", last, ok, err)
	}
	seed(t, db, "acme", 0, 2, t0)
	root := t.TempDir()
	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root}); err != nil {
		t.Fatal(err)
	}
	last, ok, err := db.LastPublish(ctx)
	if err != nil || last.FinishedAt.IsZero() || last.Error != "" || last.Stats.Files != len(schema.ContractTables()) ||
		last.Stats.Bytes <= 0 || ok.FinishedAt != last.FinishedAt {
		t.Fatalf("after a publish: %+v %+v %v", last, ok, err)
	}
	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{"../x"}}); err == nil {
		t.Fatal("a bad account published")
	}
	failed, ok2, err := db.LastPublish(ctx)
	if err != nil || !strings.Contains(failed.Error, "../x") || !ok2.FinishedAt.Equal(ok.FinishedAt) {
		t.Errorf("after a failed publish: %+v, last success %+v, %v", failed, ok2, err)
	}
}
