package sync

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// TestSyncer_backfillLargerThanMemoryLimit backfills and publishes an
// account whose data is several times DuckDB's memory_limit: landing,
// merges and exports must stream and spill within it, and the result is
// the whole account.
func TestSyncer_backfillLargerThanMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("backfills 80,000 applications")
	}
	t.Parallel()
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

// TestSyncer_longRunPublishesAsItGoes: a run longer than PublishEvery
// publishes what it has merged so far, more than once before it ends, and
// its final publish holds everything.
func TestSyncer_longRunPublishesAsItGoes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 400, nil)
	e.s.Publish = true
	e.s.PublishEvery = time.Nanosecond // every landed batch: "10 minutes" in a test's time
	e.s.BatchRows = 400
	res := e.mustRun(ModeBackfill)
	during := e.count(`SELECT count(*) FROM stackhouse_internal.publish_log WHERE error IS NULL AND finished_at < ?`, res.Run.FinishedAt)
	if during < 2 {
		t.Errorf("%d publishes while the backfill ran, want several", during)
	}
	t.Logf("%d publishes during the run", during)
	if n := strings.Count(e.logs.String(), "publishing what the run has so far"); n != during {
		t.Errorf("%d partial publishes logged, %d recorded", n, during)
	}
	if _, err := e.s.PublishAccounts(t.Context(), []string{"acme"}); err != nil {
		t.Fatal(err)
	}
	published := warehousetest.OpenCopy(t, e.cfg.Warehouse.PublishedPath)
	if n := warehousetest.Count(t, published, `SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL`); n != 400 {
		t.Errorf("published copy holds %d candidates after the run, want 400", n)
	}
}
