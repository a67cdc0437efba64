package sync

import (
	"database/sql"
	"strings"
	"testing"
	"time"
)

// TestSyncer_longRunPublishesAsItGoes: a run longer than PublishEvery
// publishes what it has merged so far, more than once before it ends, and
// its final publish holds everything.
func TestSyncer_longRunPublishesAsItGoes(t *testing.T) {
	e := newEnv(t, 1200, nil)
	e.s.Publish = true
	e.s.PublishEvery = time.Nanosecond // every landed batch: "10 minutes" in a test's time
	e.s.BatchRows = 1000
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
	if n := countCopy(t, e.cfg.Warehouse.PublishedPath); n != 1200 {
		t.Errorf("published copy holds %d candidates after the run, want 1200", n)
	}
}

// countCopy counts the live candidates in the read-only copy at path.
func countCopy(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
