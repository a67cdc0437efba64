package sync

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/warehouse"
)

// TestSyncer_backfillLargerThanMemoryLimit backfills and publishes an
// account whose data is several times DuckDB's memory_limit: landing,
// merges and exports must stream and spill within it, and the result is
// the whole account.
func TestSyncer_backfillLargerThanMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("backfills 80,000 applications")
	}
	const n = 80_000
	e := newEnv(t, n, nil)
	no := false
	e.account().Attachments, e.account().Hires = &no, &no
	e.account().Concurrency = 8
	e.cfg.Warehouse.MemoryLimit, e.cfg.Warehouse.Threads = "64MB", 1
	e.cfg.Warehouse.Path = filepath.Join(e.dir, "small.duckdb")
	e.open()
	e.s.BatchRows, e.s.DetailChunk = DefaultBatchRows, DefaultDetailChunk
	ctx := context.Background()
	e.mustRun(ModeBackfill)
	var data int64
	if err := e.sql().QueryRow(`SELECT sum(strlen(remote_data::VARCHAR)) FROM candidates`).Scan(&data); err != nil {
		t.Fatal(err)
	}
	if data < 2*64<<20 {
		t.Fatalf("the account holds %d MB of remote_data: not much larger than the 64MB limit", data>>20)
	}
	serials, _ := e.fake.Serials(e.tenant.Subdomain, fake.ListCandidates)
	if got := e.count(`SELECT count(*) FROM candidates WHERE detail_hash = row_hash`); got != len(serials) {
		t.Errorf("%d candidates with detail, fake has %d", got, len(serials))
	}
	st, err := e.db.Publish(ctx, warehouse.PublishOptions{ReadOnlyPath: e.cfg.Warehouse.PublishedPath, ParquetDir: e.cfg.Warehouse.ParquetDir})
	if err != nil {
		t.Fatalf("publish under a 64MB limit: %v", err)
	}
	if !st.Copied || st.Files == 0 {
		t.Errorf("publish wrote %+v", st)
	}
	glob := filepath.Join(e.cfg.Warehouse.ParquetDir, "candidates", "*", "*.parquet")
	if got := e.count(`SELECT count(*) FROM read_parquet(?)`, glob); got != len(serials) {
		t.Errorf("%d candidates in Parquet, want %d", got, len(serials))
	}
	t.Logf("%d applications, %d MB of remote_data, memory_limit 64MB", n, data>>20)
}
