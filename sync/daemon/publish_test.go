package daemon

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/sync"
)

// TestDaemon_webhookChangesPublished: stage changes that arrive by webhook
// reach the read-only copy and the Parquet tree without a scheduled run,
// also when the copy was replaced moments before (copy_interval), and a
// burst of them costs a few publishes, not one each.
func TestDaemon_webhookChangesPublished(t *testing.T) {
	noLeaks(t)
	e, ln := newHookEnv(t, 300, nil)
	e.s.Publish = true
	e.s.CopyInterval = 2 * time.Second
	e.mustRun(sync.ModeSync) // publishes: the copy is fresh when the webhooks come
	d := e.daemon(ln, sync.ScheduleConfig{})
	d.PublishDelay = 300 * time.Millisecond
	publishesBefore := e.count(`SELECT count(*) FROM stackhouse_internal.publish_log`)
	stop := start(t, d)

	pipeline, _ := e.fake.Pipeline("acme")
	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	moved := map[string]string{}
	for _, s := range slices.Backward(serials) {
		_, detail := e.truth(s)
		i := slices.Index(pipeline, string(detail.Stage))
		if i < 0 || i+1 >= len(pipeline) || detail.StageType != "" {
			continue
		}
		if err := e.fake.MoveStage("acme", s, pipeline[i+1]); err != nil {
			t.Fatal(err)
		}
		if moved[s] = pipeline[i+1]; len(moved) == 20 {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.fake.FlushWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	copyPath := e.cfg.Warehouse.PublishedPath
	parquet := filepath.Join(e.cfg.Warehouse.ParquetDir, "stage_events", "*", "*.parquet")
	want := len(moved)
	list := make([]string, 0, want)
	for s := range moved {
		list = append(list, s)
	}
	countIn := func(from string) int {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`ATTACH '` + copyPath + `' AS pub (READ_ONLY)`); err != nil {
			return -1 // between a rename and the next: try again
		}
		var n int
		q := `SELECT count(DISTINCT candidate_id) FROM ` + from + ` WHERE origin = 'webhook' AND list_contains(?::VARCHAR[], candidate_id)`
		if err := db.QueryRow(q, list).Scan(&n); err != nil {
			return -1
		}
		return n
	}
	waitFor(t, 30*time.Second, "every webhook stage change in the read-only copy and the Parquet tree", func() bool {
		return countIn("pub.stage_events") == want && countIn(`read_parquet('`+parquet+`')`) == want
	})
	if _, err := stop(); err != nil {
		t.Fatal(err)
	}
	publishes := e.count(`SELECT count(*) FROM stackhouse_internal.publish_log`) - publishesBefore
	if publishes < 1 || publishes > want/2 {
		t.Errorf("%d publishes for a burst of %d webhooks; want a few, not one each (debounced)", publishes, want)
	}
	t.Logf("%d publishes for %d webhook changes", publishes, want)
}
