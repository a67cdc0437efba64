package warehouse

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse/s3/s3test"
)

// monthly lands n candidates of account, one applied every ten days from
// January 2024 (so about three a month), each with one stage event the
// day it applied (none for an application without a date); mods change
// candidate i.
func monthly(t *testing.T, db *DB, account string, n int, at time.Time, mods map[int]func(*schema.Candidate)) {
	t.Helper()
	b := &Batch{Account: account, RunID: "run-" + account, At: at}
	start := time.Date(2024, 1, 3, 9, 0, 0, 0, time.UTC)
	for i := range n {
		id := fmt.Sprintf("a4%s%03d", account, i)
		c := candidate(id, func(c *schema.Candidate) { c.AppliedAt = start.AddDate(0, 0, 10*i) })
		if m := mods[i]; m != nil {
			m(&c)
		}
		b.Candidates = append(b.Candidates, c)
		if !c.AppliedAt.IsZero() {
			b.StageEvents = append(b.StageEvents, event(id, "New", schema.FunnelApplied, c.AppliedAt))
		}
	}
	write(t, db, b)
}

// accountFiles lists the Parquet files of table of account under root.
func accountFiles(t *testing.T, root, table, account string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(ParquetFile(root, table, account)), "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	slices.Sort(m)
	return m
}

// sameRows fails unless the Parquet files of table under root hold, as a
// reader globbing <table>/*/*.parquet sees them, exactly the table's rows:
// every column of every row, no row twice.
func sameRows(t *testing.T, db *DB, root, table string) {
	t.Helper()
	var cols string
	if err := db.SQL().QueryRow(`SELECT string_agg(column_name, ', ' ORDER BY column_index) FROM duckdb_columns()
		WHERE schema_name = 'main' AND table_name = ? AND data_type NOT LIKE 'JSON%'`, table).Scan(&cols); err != nil {
		t.Fatal(err)
	}
	glob := filepath.Join(root, table, "*", "*.parquet")
	var missing, extra, n, m int
	if err := db.SQL().QueryRow(`SELECT
			(SELECT count(*) FROM (SELECT `+cols+`, remote_data::VARCHAR FROM `+table+`
				EXCEPT ALL SELECT `+cols+`, remote_data::VARCHAR FROM read_parquet(?, hive_partitioning = false))),
			(SELECT count(*) FROM (SELECT `+cols+`, remote_data::VARCHAR FROM read_parquet(?, hive_partitioning = false)
				EXCEPT ALL SELECT `+cols+`, remote_data::VARCHAR FROM `+table+`)),
			(SELECT count(*) FROM `+table+`), (SELECT count(*) FROM read_parquet(?, hive_partitioning = false))`,
		glob, glob, glob).Scan(&missing, &extra, &n, &m); err != nil {
		// stage_events has no remote_data.
		if !strings.Contains(err.Error(), "remote_data") {
			t.Fatal(err)
		}
		if err := db.SQL().QueryRow(`SELECT
				(SELECT count(*) FROM (SELECT `+cols+` FROM `+table+` EXCEPT ALL SELECT `+cols+` FROM read_parquet(?, hive_partitioning = false))),
				(SELECT count(*) FROM (SELECT `+cols+` FROM read_parquet(?, hive_partitioning = false) EXCEPT ALL SELECT `+cols+` FROM `+table+`)),
				(SELECT count(*) FROM `+table+`), (SELECT count(*) FROM read_parquet(?, hive_partitioning = false))`,
			glob, glob, glob).Scan(&missing, &extra, &n, &m); err != nil {
			t.Fatal(err)
		}
	}
	if missing != 0 || extra != 0 || n != m {
		t.Errorf("%s: the files miss %d rows and add %d; %d rows in the table, %d in the files", table, missing, extra, n, m)
	}
}

// inodes maps each Parquet file of table of account to what it is, to
// tell a file rewritten (renamed over) from one left alone.
func inodes(t *testing.T, root, table, account string) map[string]os.FileInfo {
	t.Helper()
	out := map[string]os.FileInfo{}
	for _, name := range accountFiles(t, root, table, account) {
		info, err := os.Stat(AccountFile(root, table, account, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = info
	}
	return out
}

// rewritten names the files of after that before did not hold as they are.
func rewritten(before, after map[string]os.FileInfo) []string {
	var names []string
	for name, v := range after {
		if b, ok := before[name]; !ok || !os.SameFile(b, v) || !b.ModTime().Equal(v.ModTime()) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

func TestDB_Publish_parts(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	root := t.TempDir()
	monthly(t, db, "acme", 41, t0, nil) // January 2024 to February 2025: 14 months
	monthly(t, db, "beta", 5, t0, nil)  // under PartRows: one file
	o := PublishOptions{ParquetDir: root, PartRows: 10}
	st, err := db.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	months := accountFiles(t, root, schema.TableCandidates, "acme")
	if len(months) != 14 || months[0] != "data-2024-01.parquet" || months[13] != "data-2025-02.parquet" {
		t.Fatalf("acme's candidates files: %v, want data-2024-01.parquet … data-2025-02.parquet", months)
	}
	if got := accountFiles(t, root, schema.TableStageEvents, "acme"); !slices.Equal(got, months) {
		t.Errorf("acme's stage_events files: %v, want the same months", got)
	}
	if got := accountFiles(t, root, schema.TableStageStints, "acme"); !slices.Equal(got, months) {
		t.Errorf("acme's stage_stints files: %v, want the same months", got)
	}
	if got := accountFiles(t, root, schema.TableCandidates, "beta"); !slices.Equal(got, []string{"data.parquet"}) {
		t.Errorf("beta's candidates files: %v, want data.parquet", got)
	}
	if got := accountFiles(t, root, schema.TableJobs, "acme"); !slices.Equal(got, []string{"data.parquet"}) {
		t.Errorf("acme's jobs files: %v, want data.parquet (jobs are never split)", got)
	}
	for _, table := range []string{schema.TableCandidates, schema.TableStageEvents, schema.TableStageStints, schema.TableJobs} {
		sameRows(t, db, root, table)
	}
	first := st.Files

	// Nothing changed: nothing is written.
	if st, err = db.Publish(ctx, o); err != nil || st.Files != 0 {
		t.Fatalf("unchanged publish: %+v, %v; want no file", st, err)
	}

	// One application changes: its month's files only.
	before := inodes(t, root, schema.TableCandidates, "acme")
	beforeEvents := inodes(t, root, schema.TableStageEvents, "acme")
	beforeStints := inodes(t, root, schema.TableStageStints, "acme")
	b := &Batch{Account: "acme", RunID: "run-2", At: t1}
	c := candidate("a4acme020", func(c *schema.Candidate) {
		c.AppliedAt = time.Date(2024, 1, 3, 9, 0, 0, 0, time.UTC).AddDate(0, 0, 200) // 2024-07-21
		c.Stage, c.RowHash = "Offer", "h-changed"
	})
	b.Candidates = append(b.Candidates, c)
	b.StageEvents = append(b.StageEvents, event(c.CandidateID, "Offer", schema.FunnelOffered, time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)))
	write(t, db, b)
	if st, err = db.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := rewritten(before, inodes(t, root, schema.TableCandidates, "acme")); !slices.Equal(got, []string{"data-2024-07.parquet"}) {
		t.Errorf("a change to one application of July 2024 rewrote candidates files %v", got)
	}
	if got := rewritten(beforeEvents, inodes(t, root, schema.TableStageEvents, "acme")); !slices.Equal(got, []string{"data-2025-03.parquet"}) {
		t.Errorf("a stage change of March 2025 wrote stage_events files %v, want only data-2025-03.parquet", got)
	}
	// Its stints: the new one, and the one of July 2024 (its application)
	// that the new stage change ends.
	if got := rewritten(beforeStints, inodes(t, root, schema.TableStageStints, "acme")); !slices.Equal(got, []string{"data-2024-07.parquet", "data-2025-03.parquet"}) {
		t.Errorf("a stage change of March 2025 wrote stage_stints files %v", got)
	}
	if st.Files != 4 || first < 3*14+1 {
		t.Errorf("publish wrote %d files after one change (and %d at first)", st.Files, first)
	}
	sameRows(t, db, root, schema.TableCandidates)
	sameRows(t, db, root, schema.TableStageEvents)
	sameRows(t, db, root, schema.TableStageStints)

	// An application moves to another month: both are rewritten, and a
	// month left empty loses its file.
	only := time.Date(2025, 2, 6, 9, 0, 0, 0, time.UTC) // the 41st application, alone in February 2025
	before = inodes(t, root, schema.TableCandidates, "acme")
	write(t, db, &Batch{Account: "acme", RunID: "run-3", At: t1.Add(time.Hour), Candidates: []schema.Candidate{
		candidate("a4acme040", func(c *schema.Candidate) { c.AppliedAt = time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC) }),
	}})
	if st, err = db.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	after := inodes(t, root, schema.TableCandidates, "acme")
	if _, ok := after["data-2025-02.parquet"]; ok {
		t.Errorf("the file of February 2025 (its one application, applied %s, moved to March 2024) is still there", only.Format(time.DateOnly))
	}
	if got := rewritten(before, after); !slices.Equal(got, []string{"data-2024-03.parquet"}) {
		t.Errorf("moving an application to March 2024 rewrote %v", got)
	}
	sameRows(t, db, root, schema.TableCandidates)

	// Back to one file when splitting is off, and split again: the other
	// layout's files go each time, and the records follow.
	o.PartRows = -1
	if st, err = db.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := accountFiles(t, root, schema.TableCandidates, "acme"); !slices.Equal(got, []string{"data.parquet"}) {
		t.Errorf("with PartRows -1, acme's candidates files are %v", got)
	}
	sameRows(t, db, root, schema.TableCandidates)
	sameRows(t, db, root, schema.TableStageEvents)
	if st, err = db.Publish(ctx, o); err != nil || st.Files != 0 {
		t.Errorf("unchanged publish after the switch: %+v, %v; want no file", st, err)
	}
	o.PartRows = 10
	if st, err = db.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got := accountFiles(t, root, schema.TableCandidates, "acme"); len(got) != 13 || slices.Contains(got, "data.parquet") {
		t.Errorf("split again, acme's candidates files are %v", got)
	}
	sameRows(t, db, root, schema.TableCandidates)
	sameRows(t, db, root, schema.TableStageEvents)
	if st, err = db.Publish(ctx, o); err != nil || st.Files != 0 {
		t.Errorf("unchanged publish after splitting again: %+v, %v; want no file", st, err)
	}

	// A month's file deleted by hand comes back.
	gone := AccountFile(root, schema.TableCandidates, "acme", "data-2024-05.parquet")
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if st, err = db.Publish(ctx, o); err != nil || st.Files != 1 {
		t.Errorf("publish after a month's file was removed: %+v, %v; want it written again", st, err)
	}
	sameRows(t, db, root, schema.TableCandidates)
}

func TestPartFilter(t *testing.T) {
	where, args, err := partFilter(schema.TableCandidates, "2024-12")
	if err != nil || where != "applied_at >= $2 AND applied_at < $3" || len(args) != 2 ||
		!args[0].(time.Time).Equal(time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)) ||
		!args[1].(time.Time).Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("partFilter(2024-12) = %q, %v, %v", where, args, err)
	}
	if where, args, err := partFilter(schema.TableStageEvents, undatedPart); err != nil || where != "changed_at IS NULL" || args != nil {
		t.Errorf("partFilter(undated) = %q, %v, %v", where, args, err)
	}
	if _, _, err := partFilter(schema.TableCandidates, "2024-13"); err == nil {
		t.Error("partFilter(2024-13): no error")
	}
}

func TestDB_Publish_partsRemote(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "lake")
	db := openTest(t)
	root := t.TempDir()
	monthly(t, db, "acme", 41, t0, nil)
	bucket := openBucket(t, srv.URL, "s3://lake/hr")
	o := PublishOptions{ParquetDir: root, Remote: bucket, PartRows: 10, Now: func() time.Time { return t1 }}
	if _, err := db.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	// The bucket holds what the local tree holds, key for key and byte for
	// byte, and the manifest lists every file with its rows.
	check := func(when string) Manifest {
		t.Helper()
		var want []string
		for _, table := range schema.ContractTables() {
			for _, name := range accountFiles(t, root, table, "acme") {
				key := FileKey(table, "acme", name)
				want = append(want, "hr/"+key)
				local, err := os.ReadFile(AccountFile(root, table, "acme", name))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(srv.Object(t, "lake", "hr/"+key), local) {
					t.Errorf("%s: %s differs from the local file", when, key)
				}
			}
		}
		want = append(want, "hr/"+ManifestKey("acme"))
		slices.Sort(want)
		if got := srv.Keys(t, "lake", ""); !slices.Equal(got, want) {
			t.Errorf("%s: bucket holds %v\nwant %v", when, got, want)
		}
		m := manifestOf(t, srv, "hr/"+ManifestKey("acme"))
		if m.Format != 2 {
			t.Errorf("%s: manifest format %d, want 2", when, m.Format)
		}
		for table, mt := range m.Tables {
			var rows int64
			for _, f := range mt.Files {
				if !slices.Contains(want, "hr/"+f.Key) {
					t.Errorf("%s: manifest lists %s, not in the bucket", when, f.Key)
				}
				rows += f.Rows
			}
			if rows != mt.Rows || int(rows) != liveCounts(t, db, table)["acme"] {
				t.Errorf("%s: manifest says %s has %d rows (files: %d); the table has %d", when, table, mt.Rows, rows, liveCounts(t, db, table)["acme"])
			}
		}
		return m
	}
	m := check("split by month")
	if c := m.Tables[schema.TableCandidates]; c.Key != "" || len(c.Files) != 14 {
		t.Errorf("candidates in the manifest: key %q, %d files; want no key and 14 files", c.Key, len(c.Files))
	}
	if j := m.Tables[schema.TableJobs]; j.Key != ParquetKey(schema.TableJobs, "acme") || len(j.Files) != 1 {
		t.Errorf("jobs in the manifest: %+v; want its one file as key", j)
	}

	// A month emptied: its file leaves the bucket too, after the manifest.
	write(t, db, &Batch{Account: "acme", RunID: "run-3", At: t1, Candidates: []schema.Candidate{
		candidate("a4acme040", func(c *schema.Candidate) { c.AppliedAt = time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC) }),
	}})
	st, err := db.Publish(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if st.Uploaded != 1 || st.Manifests != 1 {
		t.Errorf("after one application moved: %+v; want one file and the manifest sent", st)
	}
	check("a month emptied")

	// One file again: the month files leave the bucket.
	o.PartRows = -1
	if _, err := db.Publish(ctx, o); err != nil {
		t.Fatal(err)
	}
	if c := check("one file").Tables[schema.TableCandidates]; c.Key != ParquetKey(schema.TableCandidates, "acme") || len(c.Files) != 1 {
		t.Errorf("candidates in the manifest: %+v; want its one file as key", c)
	}
	requests := srv.Requests()
	if st, err := db.Publish(ctx, o); err != nil || st.Uploaded != 0 || st.Manifests != 0 || srv.Requests() != requests {
		t.Errorf("unchanged: %+v, %v, %d requests; want none", st, err, srv.Requests()-requests)
	}
}

func TestDB_Publish_partsUndated(t *testing.T) {
	db := openTest(t)
	root := t.TempDir()
	undated := func(c *schema.Candidate) { c.AppliedAt = time.Time{} }
	monthly(t, db, "acme", 12, t0, map[int]func(*schema.Candidate){3: undated, 7: undated})
	if _, err := db.Publish(context.Background(), PublishOptions{ParquetDir: root, PartRows: 10}); err != nil {
		t.Fatal(err)
	}
	if got := accountFiles(t, root, schema.TableCandidates, "acme"); !slices.Contains(got, "data-undated.parquet") || len(got) != 5 {
		t.Errorf("candidates files %v; want January to April 2024 and data-undated.parquet", got)
	}
	sameRows(t, db, root, schema.TableCandidates)
}

// TestPartFingerprints_utcMonth checks that a row is fingerprinted in the
// month whose file holds it (partFilter: its UTC month), at the edges of a
// month and whatever the session's time zone: a row counted in the wrong
// month would leave its own month's file unwritten when it changes.
func TestPartFingerprints_utcMonth(t *testing.T) {
	ctx := context.Background()
	db := openAt(t, "")
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	b := &Batch{Account: "acme", At: t0}
	for id, applied := range map[string]time.Time{
		"a4last":  at("2024-07-31T23:30:00Z"), // August already in New York
		"a4first": at("2024-08-01T00:00:00Z"), // still July in Los Angeles
		"a4mid":   at("2024-08-15T12:00:00-07:00"),
		"a4none":  {},
	} {
		b.Candidates = append(b.Candidates, candidate(id, func(c *schema.Candidate) { c.AppliedAt = applied }))
	}
	write(t, db, b)
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, zone := range []string{"America/Los_Angeles", "Asia/Tokyo"} {
		if _, err := conn.ExecContext(ctx, `SET TimeZone = '`+zone+`'`); err != nil {
			t.Fatal(err)
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		fps, err := partFingerprints(ctx, tx, schema.TableCandidates, "candidate_id", "acme")
		tx.Rollback()
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]string{}
		for month, fp := range fps {
			counts[month], _, _ = strings.Cut(fp, "/")
		}
		if want := map[string]string{"2024-07": "1", "2024-08": "2", undatedPart: "1"}; !maps.Equal(counts, want) {
			t.Errorf("session in %s: rows per month %v, want %v", zone, counts, want)
		}
	}
}
