package warehouse

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

func TestDB_status(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "status.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := schema.Migrations()
	if v, current, err := db.CurrentSchema(ctx); err != nil || !current || v != ms[len(ms)-1].Version {
		t.Errorf("CurrentSchema = %d, %v, %v; want %d, true", v, current, err, ms[len(ms)-1].Version)
	}

	at := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	for _, r := range []schema.Run{
		{RunID: "r1", AccountID: "acme", Mode: "sync", Status: schema.RunSucceeded, StartedAt: at, FinishedAt: at.Add(time.Minute)},
		{RunID: "r2", AccountID: "acme", Mode: "tail", Status: schema.RunSucceeded, StartedAt: at.Add(time.Hour), FinishedAt: at.Add(61 * time.Minute)},
		{RunID: "r3", AccountID: "acme", Mode: "webhook", Status: schema.RunSucceeded, StartedAt: at.Add(2 * time.Hour), FinishedAt: at.Add(121 * time.Minute)},
		{RunID: "r4", AccountID: "acme", Mode: "full", Status: schema.RunFailed, StartedAt: at.Add(3 * time.Hour), FinishedAt: at.Add(181 * time.Minute), Error: "x"},
		{RunID: "r5", AccountID: "beta", Mode: "sync", Status: schema.RunFailed, StartedAt: at, FinishedAt: at.Add(time.Minute), Error: "x"},
	} {
		if err := db.FinishRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	last, err := db.LastSuccesses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The webhook refresh and the failed runs do not count; beta has none.
	if len(last) != 1 || !last["acme"].Equal(at.Add(61*time.Minute)) {
		t.Errorf("LastSuccesses = %v, want acme at %v", last, at.Add(61*time.Minute))
	}
}
