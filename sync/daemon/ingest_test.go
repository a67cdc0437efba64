package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// TestIngester_commit hands the ingester one group in which an event that
// passed validation still cannot be stored (its stage event has no date,
// which stage_events refuses): the group is retried one event at a time, so
// every other event is stored, and the refused one is told it is at fault
// (warehouse.ErrRejected: the handler answers 400, not a 500 that invites a
// retry that cannot help).
func TestIngester_commit(t *testing.T) {
	ctx := context.Background()
	db, err := warehouse.Open(ctx, filepath.Join(t.TempDir(), "wh.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	req := func(i int, changedAt time.Time) ingestReq {
		serial := fmt.Sprintf("a4acme%06d", i)
		return ingestReq{
			event: schema.WebhookEvent{EventID: fmt.Sprint("event-", i), AccountID: "acme", ObjectType: "candidate",
				EventType: "stagechange", ObjectID: serial, Stage: "Interview", EventDate: at,
				Payload: json.RawMessage(`{"Stage":"Interview"}`), ReceivedAt: at},
			stage: &schema.StageEvent{AccountID: "acme", CandidateID: serial, Stage: "Interview",
				FunnelStage: schema.FunnelInterviewed, ChangedAt: changedAt, Origin: schema.OriginWebhook},
			done: make(chan ingestResult, 1),
		}
	}
	var group []ingestReq
	for i := range 6 {
		changedAt := at
		if i == 2 {
			changedAt = time.Time{} // NULL changed_at: refused by stage_events
		}
		group = append(group, req(i, changedAt))
	}
	in := newIngester(db, 64)
	in.commit(group)
	for i, r := range group {
		res := <-r.done
		switch {
		case i == 2 && !errors.Is(res.err, warehouse.ErrRejected):
			t.Errorf("the bad event: %v, want warehouse.ErrRejected", res.err)
		case i != 2 && (res.err != nil || !res.inserted):
			t.Errorf("event %d: inserted %v, %v; one bad event failed its neighbour", i, res.inserted, res.err)
		}
	}
	var events, stages int
	db.SQL().QueryRow(`SELECT count(*) FROM webhook_events`).Scan(&events)
	db.SQL().QueryRow(`SELECT count(*) FROM stage_events`).Scan(&stages)
	if events != 5 || stages != 5 {
		t.Errorf("%d webhook events and %d stage events stored, want the 5 good ones", events, stages)
	}
}
