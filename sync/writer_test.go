package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stackhouse/stackhouse/warehouse"
)

// TestWriter_gathersWhileLanding: while a batch lands (held here in the
// writer's onLand), the fetchers go on sending a whole batch more instead
// of waiting on a full channel; the rows and pages all land, in order,
// with the checkpoint of every page.
func TestWriter_gathersWhileLanding(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const batch = 200 // rows a batch; twice the channel's 64 items and more
	w := newWriter(db, "acme", "run-1", ModeSync, resourceCandidates, scanState{}, batch)
	release := make(chan struct{})
	landed := 0
	w.onLand = func(context.Context) {
		if landed++; landed == 1 {
			<-release // the first land holds until the second batch is sent
		}
	}
	go w.run(ctx)
	send := func(from, to int) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for i := from; i < to; i++ {
			b := &warehouse.Batch{Account: "acme", RunID: "run-1", At: time.Now(),
				SeenCandidates: []string{fmt.Sprintf("c%04d", i)}}
			if err := w.send(sctx, b, i+1); err != nil {
				t.Fatalf("send of row %d while the first batch lands: %v", i, err)
			}
		}
	}
	send(0, batch)       // the first batch: handed to commit, which holds
	send(batch, 2*batch) // the second: gathered meanwhile
	close(release)
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	if landed != 2 {
		t.Errorf("landed %d batches, want 2", landed)
	}
	cp, err := db.Checkpoint(ctx, "acme", resourceCandidates)
	if err != nil || cp == nil {
		t.Fatalf("checkpoint: %+v, %v", cp, err)
	}
	var st scanState
	if err := json.Unmarshal(cp.State, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Done) != 2*batch || st.Done[0] != 1 || st.Done[len(st.Done)-1] != 2*batch {
		t.Errorf("checkpoint holds %d pages (%v…), want 1..%d", len(st.Done), st.Done[:min(3, len(st.Done))], 2*batch)
	}
}

// TestWriter_failedLand: a land that fails is reported by the flush after
// it and by close; rows sent after it are drained, not waited on, and both
// of the writer's goroutines end.
func TestWriter_failedLand(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(db, "acme", "run-1", ModeSync, resourceCandidates, scanState{}, 10)
	go w.run(ctx)
	db.Close() // every land fails from here
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i := range 100 { // ten batches: the first fails, the rest are drained
		b := &warehouse.Batch{Account: "acme", RunID: "run-1", At: time.Now(), SeenCandidates: []string{fmt.Sprint("c", i)}}
		if err := w.send(sctx, b, i+1); err != nil {
			t.Fatalf("send %d after a failed land: %v", i, err)
		}
	}
	if err := w.flush(sctx); err == nil {
		t.Error("flush after a failed land: no error")
	}
	if err := w.close(); err == nil {
		t.Error("close after a failed land: no error")
	}
}
