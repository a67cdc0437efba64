package warehouse

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// TestTables_matchDDL guards the single declaration of each synced table:
// its descriptor names every column of the table, in the DDL's order, and
// the landing table has the same columns plus _seq.
func TestTables_matchDDL(t *testing.T) {
	db := openTest(t)
	columns := func(schemaName, table string) []string {
		rows, err := db.SQL().Query(`SELECT column_name FROM duckdb_columns()
			WHERE schema_name = ? AND table_name = ? ORDER BY column_index`, schemaName, table)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		return names
	}
	for _, tb := range syncedTables {
		want := columns("main", tb.tableName())
		if got := tb.columnNames(); !slices.Equal(got, want) {
			t.Errorf("%s: descriptor columns\n%v\nDDL columns\n%v", tb.tableName(), got, want)
		}
		if got := columns(landSchema, "land_"+tb.tableName()); !slices.Equal(got, append(want, "_seq")) {
			t.Errorf("landing %s columns = %v", tb.tableName(), got)
		}
	}
	var events []string
	for _, c := range eventColumns {
		events = append(events, c.name)
	}
	if want := columns("main", "stage_events"); !slices.Equal(events, want) {
		t.Errorf("stage_events: descriptor %v, DDL %v", events, want)
	}
}

// TestDB_LandMerge checks that rows landed over several transactions and
// merged at once leave exactly what writing the same batches one by one
// leaves, and that nothing is visible before the merge.
func TestDB_LandMerge(t *testing.T) {
	ctx := context.Background()
	batches := func() []*Batch {
		b1 := fullBatch(t0)
		b1.Checkpoint = nil
		b2 := &Batch{Account: "acme", RunID: "r1", At: t1,
			Candidates: []schema.Candidate{candidate("a4one", func(c *schema.Candidate) {
				c.Stage, c.RowHash, c.DetailHash, c.RemoteData = "Offer", "h2", "", nil
			})},
			StageEvents: []schema.StageEvent{event("a4two", "Do Not Pursue", schema.FunnelRejected, t1)},
			Attachments: []schema.Attachment{{AttachmentID: "a6one", CandidateID: "a4one", FileName: "renamed.pdf"}},
			SeenJobs:    []string{"a2job1"},
		}
		b3 := &Batch{Account: "acme", RunID: "r1", At: t2, Candidates: []schema.Candidate{candidate("a4three")},
			StageEvents: []schema.StageEvent{event("a4one", "Interview", schema.FunnelInterviewed, t0.Add(-time.Hour))}}
		return []*Batch{b1, b2, b3}
	}
	direct := openTest(t)
	for _, b := range batches() {
		write(t, direct, b)
	}
	landed := openTest(t)
	for _, b := range batches() {
		if err := landed.Land(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n := one[int](t, landed, `SELECT count(*) FROM candidates`); n != 0 {
		t.Fatalf("%d candidates visible before the merge", n)
	}
	if got, err := landed.Landed(ctx, "acme"); err != nil || got["candidates"] != 4 || got["stage_events"] != 4 {
		t.Fatalf("Landed = %v, %v; want 4 candidates and 4 stage events", got, err)
	}
	changed, err := landed.Merge(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if changed["candidates"] < 3 || changed["stage_events"] != 3 {
		t.Errorf("Merge reported %v", changed)
	}
	for _, table := range []string{"jobs", "candidates", "hires", "attachments", "stage_events", "rejected_records"} {
		if got, want := dump(t, landed, table), dump(t, direct, table); got != want {
			t.Errorf("%s after Land+Merge:\n%s\nafter Write:\n%s", table, got, want)
		}
	}
	if got, err := landed.Landed(ctx, "acme"); err != nil || len(got) != 0 {
		t.Errorf("landing after the merge = %v, %v; want empty", got, err)
	}
	// A second merge with nothing landed changes nothing.
	before := dump(t, landed, "candidates")
	if _, err := landed.Merge(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, landed, "candidates"); after != before {
		t.Errorf("an empty merge changed candidates")
	}
}

// TestDB_Land_otherAccount checks that a merge takes only its account's
// landed rows.
func TestDB_Land_otherAccount(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	for _, account := range []string{"acme", "beta"} {
		b := &Batch{Account: account, At: t0, Candidates: []schema.Candidate{candidate("a4one")}}
		if err := db.Land(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Merge(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if got := one[string](t, db, `SELECT string_agg(account_id) FROM candidates`); got != "acme" {
		t.Errorf("accounts merged = %q, want acme", got)
	}
	if got, _ := db.Landed(ctx, "beta"); got["candidates"] != 1 {
		t.Errorf("beta's landed rows = %v, want 1 candidate", got)
	}
}

// TestDB_scanDeletions checks the deletion bookkeeping of a scan: rows it
// recorded as scanned are spared, the rest are marked deleted, a deleted
// row it saw comes back, and EndScan forgets what it saw.
func TestDB_scanDeletions(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{
		candidate("a4one"), candidate("a4two"), candidate("a4gone")}})
	if _, err := db.MarkDeleted(ctx, "acme", "candidates", t1, t1); err != nil { // a4two was deleted earlier
		t.Fatal(err)
	}
	write(t, db, &Batch{Account: "acme", At: t1, Candidates: []schema.Candidate{candidate("a4one"), candidate("a4gone")}})
	if err := db.Land(ctx, &Batch{Account: "acme", At: t2, ScannedCandidates: []string{"a4one", "a4two"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Vanished(ctx, "acme", t2); err != nil || !slices.Equal(got, []string{"a4gone"}) {
		t.Fatalf("Vanished = %v, %v; want [a4gone]", got, err)
	}
	n, err := db.MarkDeleted(ctx, "acme", "candidates", t2, t2)
	if err != nil || n != 1 {
		t.Fatalf("MarkDeleted = %d, %v; want 1", n, err)
	}
	if err := db.EndScan(ctx, "acme", "candidates", true, t2); err != nil {
		t.Fatal(err)
	}
	got := one[string](t, db, `SELECT string_agg(candidate_id || ':' || (remote_deleted_at IS NULL), ',' ORDER BY candidate_id) FROM candidates`)
	if got != "a4gone:false,a4one:true,a4two:true" {
		t.Errorf("live after the scan = %s", got)
	}
	if n := one[int](t, db, `SELECT count(*) FROM stackhouse_internal.scan_seen`); n != 0 {
		t.Errorf("%d scanned serials left after EndScan", n)
	}
	// An unchanged row keeps its row: the scan wrote nothing to it.
	if ls := one[time.Time](t, db, `SELECT last_seen_at FROM candidates WHERE candidate_id = 'a4one'`); !ls.Equal(t1) {
		t.Errorf("a4one last_seen_at = %v, want %v (unchanged rows are not rewritten)", ls, t1)
	}
}

// TestDB_Merge_memoryLimit lands and merges far more than DuckDB may hold
// in memory: the merge's large strings must stream and spill, not fail.
func TestDB_Merge_memoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~300 MB")
	}
	// 128MB: slices of half the limit less 32 MiB (mergeBudget), larger
	// than a sixteenth.
	t.Run("128MB", func(t *testing.T) {
		db, err := Open(context.Background(), t.TempDir()+"/wh.duckdb?memory_limit=128MB&threads=1")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if b := mergeBudget(db.memoryLimit(context.Background())); b <= 128_000_000/16 {
			t.Fatalf("merge budget %d under 128MB: not above a sixteenth, the case this test covers", b)
		}
		const n = 60_000
		landPadded(t, db, n, 2_000, strings.Repeat("x", 4000), true)
		if _, err := db.Merge(context.Background(), "acme"); err != nil {
			t.Fatalf("merge of %d rows of 4 KB under a 128MB limit: %v", n, err)
		}
		if got := one[int](t, db, `SELECT count(*) FROM candidates WHERE length(remote_data::VARCHAR) > 4000`); got != n {
			t.Errorf("%d candidates merged, want %d", got, n)
		}
	})
	ctx := context.Background()
	db, err := Open(ctx, t.TempDir()+"/wh.duckdb?memory_limit=64MB&threads=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 60_000
	landPadded(t, db, n, 2_000, strings.Repeat("x", 4000), true)
	if _, err := db.Merge(ctx, "acme"); err != nil {
		t.Fatalf("merge of %d rows of 4 KB under a 64MB limit: %v", n, err)
	}
	if got := one[int](t, db, `SELECT count(*) FROM candidates WHERE length(remote_data::VARCHAR) > 4000`); got != n {
		t.Errorf("%d candidates merged, want %d", got, n)
	}
	dir := t.TempDir()
	o := PublishOptions{ReadOnlyPath: filepath.Join(dir, "published.duckdb"), ParquetDir: filepath.Join(dir, "pq")}
	if _, err := db.Publish(ctx, o); err != nil {
		t.Fatalf("publish of %d rows of 4 KB under a 64MB limit: %v", n, err)
	}
	// 60,000 rows: past DefaultPartRows, so one file per month.
	if got := one[int](t, db, `SELECT count(*) FROM read_parquet(?)`,
		filepath.Join(o.ParquetDir, "candidates", "account_id=acme", "data-*.parquet")); got != n {
		t.Errorf("%d candidates in Parquet, want %d", got, n)
	}
}

// landPadded lands n candidates of acme, per a batch, each record padded
// with payload, and with a stage event each when events is set.
func landPadded(t *testing.T, db *DB, n, per int, payload string, events bool) {
	t.Helper()
	for start := 0; start < n; start += per {
		b := &Batch{Account: "acme", At: t0}
		for i := start; i < min(start+per, n); i++ {
			id := fmt.Sprintf("a4%08d", i)
			b.Candidates = append(b.Candidates, candidate(id, func(c *schema.Candidate) {
				c.RemoteData = []byte(`{"Candidate Serial":"` + id + `","pad":"` + payload + `"}`)
			}))
			if events {
				b.StageEvents = append(b.StageEvents, event(id, "New", schema.FunnelApplied, t0))
			}
		}
		if err := db.Land(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDB_Merge_checkpoint checks that a merge that leaves a large WAL
// checkpoints it: rows landed between merges stay in the WAL (the default
// checkpoint_threshold is large), so only the merged tables, not landing
// rows about to be deleted, are compressed into the file.
func TestDB_Merge_checkpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~200 MB")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	db := openAt(t, path)
	const n = 24_000
	landPadded(t, db, n, 4_000, strings.Repeat("lorem ipsum ", 350), false)
	walSize := func() int64 {
		info, err := os.Stat(path + ".wal")
		if err != nil {
			return 0
		}
		return info.Size()
	}
	if w := walSize(); w < mergeCheckpointWAL {
		t.Fatalf("WAL after landing %d rows of 4 KB: %d bytes; the landed rows were checkpointed (want them in the WAL)", n, w)
	}
	if _, err := db.Merge(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if w := walSize(); w >= mergeCheckpointWAL {
		t.Errorf("WAL after the merge: %d bytes, want it checkpointed", w)
	}
	if got := one[int](t, db, `SELECT count(*) FROM candidates`); got != n {
		t.Errorf("%d candidates, want %d", got, n)
	}
}

// TestDB_Publish_incremental checks that a publish rewrites only what
// changed: nothing after an unchanged run, one account's changed tables
// after a change, and the read-only copy only when something changed.
func TestDB_Publish_incremental(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := Open(ctx, filepath.Join(dir, "live.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seed(t, db, "acme", 0, 5, t0)
	seed(t, db, "beta", 0, 3, t0)
	o := PublishOptions{ReadOnlyPath: filepath.Join(dir, "published.duckdb"), ParquetDir: filepath.Join(dir, "pq")}
	first, err := db.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * len(schema.ContractTables()); first.Files != want || !first.Copied {
		t.Fatalf("first publish: %+v, want %d files and the copy", first, want)
	}
	again, err := db.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if again.Files != 0 || again.Copied || again.Bytes != 0 {
		t.Errorf("unchanged republish wrote %+v, want nothing", again)
	}
	beta := filepath.Join(o.ParquetDir, "candidates", "account_id=beta", "data.parquet")
	before, _ := os.Stat(beta)
	if err := db.Land(ctx, &Batch{Account: "acme", At: t1, Candidates: []schema.Candidate{candidate("a4new")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Merge(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	changed, err := db.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Files != 1 || !changed.Copied {
		t.Errorf("after one new candidate: %+v, want acme's candidates file and the copy", changed)
	}
	if after, _ := os.Stat(beta); !os.SameFile(before, after) {
		t.Error("beta's unchanged partition was rewritten")
	}
	// With a copy interval, a change within it refreshes Parquet only; the
	// copy is replaced once it is older than the interval.
	write(t, db, &Batch{Account: "acme", At: t2, Candidates: []schema.Candidate{candidate("a4newer")}})
	o.CopyInterval = time.Hour
	if st, err := db.Publish(ctx, o); err != nil || st.Copied || !st.CopyStale || st.Files != 1 {
		t.Errorf("within the copy interval: %+v, %v; want Parquet only and the copy stale", st, err)
	}
	o.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if st, err := db.Publish(ctx, o); err != nil || !st.Copied || st.CopyStale || st.Files != 0 {
		t.Errorf("past the copy interval: %+v, %v; want the copy only", st, err)
	}
	o.CopyInterval, o.Now = 0, nil
	// The copy is a file copy of the checkpointed database: a new reader
	// sees the new row and the views.
	if _, err := db.SQL().Exec(`CREATE OR REPLACE VIEW metric_n AS SELECT count(*) AS n FROM candidates`); err != nil {
		t.Fatal(err)
	}
	if st, err := db.Publish(ctx, o); err != nil || !st.Copied || st.Files != 0 {
		t.Fatalf("after a new view: %+v, %v; want the copy only", st, err)
	}
	ro := warehousetest.OpenCopy(t, o.ReadOnlyPath)
	var n int
	if err := ro.QueryRow(`SELECT n FROM metric_n`).Scan(&n); err != nil || n != one[int](t, db, `SELECT count(*) FROM candidates`) {
		t.Errorf("metric_n in the copy = %d, %v", n, err)
	}
	var leaks int
	if err := ro.QueryRow(`SELECT count(*) FROM candidates c WHERE c::VARCHAR LIKE '%900-%'`).Scan(&leaks); err != nil || leaks != 0 {
		t.Errorf("%d rows with an SSN in the copy (%v)", leaks, err)
	}
}

// TestDB_Publish_copyCost checks that a publish records how long its copy
// took, and that a copy is kept until CopyCostRatio times that has passed
// when the interval is shorter: copying a large warehouse takes a bounded
// share of the time. A zero interval still copies after every change.
func TestDB_Publish_copyCost(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openAt(t, filepath.Join(dir, "live.duckdb"))
	seed(t, db, "acme", 0, 5, t0)
	o := PublishOptions{ReadOnlyPath: filepath.Join(dir, "published.duckdb"), CopyInterval: time.Second}
	st, err := db.Publish(ctx, o)
	if err != nil || !st.Copied || st.CopyTook <= 0 {
		t.Fatalf("first publish: %+v, %v; want the copy and its duration", st, err)
	}
	if took := one[int64](t, db, `SELECT copy_ms FROM stackhouse_internal.publish_log ORDER BY finished_at DESC LIMIT 1`); took != st.CopyTook.Milliseconds() {
		t.Errorf("publish_log.copy_ms = %d, want %d", took, st.CopyTook.Milliseconds())
	}
	info, err := os.Stat(o.ReadOnlyPath)
	if err != nil {
		t.Fatal(err)
	}
	written := info.ModTime()
	// The last copy took 10 minutes (as a large warehouse's might): the
	// next is due 200 minutes after it was written, not after a second.
	if _, err := db.SQL().Exec(`UPDATE stackhouse_internal.publish_log SET copy_ms = 600000 WHERE copy_ms IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	write(t, db, &Batch{Account: "acme", At: t1, Candidates: []schema.Candidate{candidate("a4new")}})
	at := func(d time.Duration) func() time.Time { return func() time.Time { return written.Add(d) } }
	o.Now = at(time.Hour)
	st, err = db.Publish(ctx, o)
	if want := written.Add(CopyCostRatio * 10 * time.Minute); err != nil || st.Copied || !st.CopyStale || !st.CopyDue.Equal(want) {
		t.Errorf("an hour after a 10-minute copy: %+v, %v; want the copy kept until %v", st, err, want)
	}
	if n := one[int](t, db, `SELECT count(*) FROM stackhouse_internal.publish_log WHERE NOT copied AND copy_ms IS NULL`); n != 1 {
		t.Errorf("%d publishes that kept the copy have no copy_ms, want 1", n)
	}
	if last, _, err := db.LastPublish(ctx); err != nil || last.Stats.Copied || !last.Stats.CopyStale || !last.Stats.CopyDue.Equal(st.CopyDue.Truncate(time.Microsecond)) {
		t.Errorf("LastPublish after a kept copy: %+v, %v; want the copy stale until %v", last.Stats, err, st.CopyDue)
	}
	o.Now = at(CopyCostRatio*10*time.Minute + time.Second)
	if st, err = db.Publish(ctx, o); err != nil || !st.Copied || st.CopyStale {
		t.Errorf("past the gap: %+v, %v; want the copy", st, err)
	}
	if last, _, err := db.LastPublish(ctx); err != nil || !last.Stats.Copied || last.Stats.CopyStale ||
		last.Stats.CopyTook != st.CopyTook.Truncate(time.Millisecond) {
		t.Errorf("LastPublish after a copy: %+v, %v; want it copied in %v", last.Stats, err, st.CopyTook)
	}
	// That copy was fast: its own duration sets the next gap, and the
	// interval is the floor.
	fast := st.CopyTook
	write(t, db, &Batch{Account: "acme", At: t2, Candidates: []schema.Candidate{candidate("a4newer")}})
	o.Now = nil
	if st, err = db.Publish(ctx, o); err != nil || st.Copied || !st.CopyStale {
		t.Errorf("within the interval after a fast copy: %+v, %v; want the copy kept", st, err)
	} else if gap, want := time.Until(st.CopyDue), max(time.Second, CopyCostRatio*fast); gap > want {
		t.Errorf("a copy that took %v keeps the next for %v, want at most %v", fast, gap, want)
	}
	// A zero interval copies after every change, however long copies take.
	if _, err := db.SQL().Exec(`UPDATE stackhouse_internal.publish_log SET copy_ms = 600000 WHERE copy_ms IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	o.CopyInterval = 0
	if st, err = db.Publish(ctx, o); err != nil || !st.Copied {
		t.Errorf("with no interval: %+v, %v; want the copy", st, err)
	}
}

// TestDB_Publish_prune checks that pruning removes the partitions of an
// account this database holds but is no longer configured, and never an
// account it does not hold (another shard's).
func TestDB_Publish_prune(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	seed(t, db, "acme", 0, 2, t0)
	seed(t, db, "gone", 0, 2, t0)
	root := filepath.Join(t.TempDir(), "pq")
	other := ParquetFile(root, "candidates", "othershard")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(other, []byte("another shard's file"), 0o644)
	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root}); err != nil {
		t.Fatal(err)
	}
	st, err := db.Publish(ctx, PublishOptions{ParquetDir: root, Accounts: []string{"acme"}, Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Pruned, []string{"gone"}) {
		t.Errorf("pruned %v, want [gone]", st.Pruned)
	}
	for _, table := range schema.ContractTables() {
		if _, err := os.Stat(ParquetFile(root, table, "gone")); !os.IsNotExist(err) {
			t.Errorf("%s of gone still there (%v)", table, err)
		}
		if _, err := os.Stat(ParquetFile(root, table, "acme")); err != nil {
			t.Errorf("%s of acme: %v", table, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another shard's partition was touched: %v", err)
	}
}

func TestMergeBudget(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct{ limit, want int64 }{
		{64_000_000, 64_000_000 / 16},         // under ~73MB: a sixteenth
		{128_000_000, 128_000_000/2 - 32*mib}, // half less 32 MiB
		{512_000_000, 512_000_000/2 - 32*mib}, // the default: 222 MB
		{1 << 30, 1<<29 - 32*mib},
	} {
		if got := mergeBudget(c.limit); got != c.want {
			t.Errorf("mergeBudget(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
}

// TestDB_Merge_insertsSkipWAL checks that a merge's inserted candidates go
// straight to the database file: DuckDB writes the rows a transaction
// inserts (a row group or more) to the file and logs only where they are,
// unless the transaction updates one of them, and then every inserted row
// is written to the WAL too. The derived columns are therefore computed
// as the rows are inserted, not updated after.
func TestDB_Merge_insertsSkipWAL(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~150 MB")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wh.duckdb")
	db, err := Open(ctx, path+"?checkpoint_threshold=16GB")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	walSize := func() int64 {
		info, err := os.Stat(path + ".wal")
		if err != nil {
			return 0
		}
		return info.Size()
	}
	const n = 130_000 // more than a row group (122,880 rows)
	landPadded(t, db, n, 13_000, strings.Repeat("lorem ipsum ", 40), true)
	before := walSize()
	bounds, err := db.mergeSlices(ctx, "acme")
	if err != nil || len(bounds) == 0 {
		t.Fatal(bounds, err)
	}
	// One transaction for all, as a merge slice of that size would be.
	if err := db.inTx(ctx, &Batch{Account: "acme"}, func(w *tx) error {
		_, err := w.merge(target{upTo: bounds[len(bounds)-1]})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	grew := walSize() - before
	if landed := before; grew > landed/10 {
		t.Errorf("the merge wrote %d MB to the WAL, after %d MB of landed rows: its inserted rows went through the WAL", grew>>20, landed>>20)
	}
	if got := one[int](t, db, `SELECT count(*) FROM candidates WHERE last_changed_at IS NOT NULL`); got != n {
		t.Errorf("%d candidates with last_changed_at, want %d", got, n)
	}
}
