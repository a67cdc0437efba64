package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

func TestDB_InsertWebhookEvents(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	ev := func(account, id string) schema.WebhookEvent {
		return schema.WebhookEvent{EventID: id, AccountID: account, ObjectType: "candidate", EventType: "stagechange",
			ObjectID: "a4" + id, Stage: "Interview", EventDate: t0, UserType: "USER",
			Payload: json.RawMessage(`{"Secret":"s3cret","Stage":"Interview"}`), ReceivedAt: t1}
	}
	if _, err := db.InsertWebhookEvent(ctx, ev("acme", "old")); err != nil {
		t.Fatal(err)
	}
	write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{candidate("a4one")}})
	stages := []schema.StageEvent{
		{AccountID: "acme", CandidateID: "a4one", Stage: "Offer", FunnelStage: schema.FunnelOffered, ChangedAt: t1, Origin: schema.OriginWebhook},
		{AccountID: "acme", CandidateID: "a4one", Stage: "Hired", FunnelStage: schema.FunnelHired, ChangedAt: t2, Origin: schema.OriginWebhook},
		{AccountID: "beta", CandidateID: "a4two", Stage: "Offer", ChangedAt: t1, Origin: schema.OriginWebhook},
	}
	got, err := db.InsertWebhookEvents(ctx, []schema.WebhookEvent{
		ev("acme", "new"), ev("acme", "old"), ev("acme", "new"), ev("beta", "old"), ev("acme", "other"),
	}, append(stages, stages[0]))
	if want := []bool{true, false, false, true, true}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("inserted = %v, %v; want %v", got, err, want)
	}
	if n := one[int](t, db, `SELECT count(*) FROM webhook_events`); n != 4 {
		t.Errorf("%d events stored, want 4", n)
	}
	if n := one[int](t, db, `SELECT count(*) FROM webhook_events WHERE json_type(payload) <> 'OBJECT'`); n != 0 {
		t.Errorf("%d payloads stored as JSON strings", n)
	}
	if s := dump(t, db, "webhook_events"); strings.Contains(s, "s3cret") {
		t.Errorf("the secret was stored: %s", s)
	}
	pending, err := db.PendingWebhookEvents(ctx, "acme")
	if err != nil || len(pending) != 3 || !pending[0].EventDate.Equal(t0) {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	if n := one[int](t, db, `SELECT count(*) FROM stage_events WHERE origin = 'webhook'`); n != 3 {
		t.Errorf("%d stage events stored, want 3", n)
	}
	if at := one[time.Time](t, db, `SELECT hired_at FROM candidates WHERE candidate_id = 'a4one'`); !at.Equal(t2) {
		t.Errorf("hired_at = %v, want it derived from the webhook's stage event %v", at, t2)
	}
	// And its stints: Offer from t1 to t2, then Hired.
	if got := one[string](t, db, `SELECT string_agg(stage || ' ' || coalesce(epoch(left_at) = epoch($1::TIMESTAMPTZ), false), ',' ORDER BY seq)
			FROM stage_stints WHERE account_id = 'acme' AND candidate_id = 'a4one'`, t2); got != "Offer true,Hired false" {
		t.Errorf("a4one's stage_stints after the webhooks: %q, want Offer until the hire, then Hired", got)
	}
	// A failing batch stores nothing.
	if _, err := db.InsertWebhookEvents(ctx, []schema.WebhookEvent{ev("acme", "lost")},
		[]schema.StageEvent{{CandidateID: "a4one", Stage: "Offer", ChangedAt: t1}}); err == nil {
		t.Error("a stage event without account was accepted")
	}
	if n := one[int](t, db, `SELECT count(*) FROM webhook_events WHERE event_id = 'lost'`); n != 0 {
		t.Error("a failed batch stored its events")
	}
	if got, err := db.InsertWebhookEvents(ctx, nil, nil); err != nil || len(got) != 0 {
		t.Errorf("empty batch = %v, %v", got, err)
	}

	t.Run("data the warehouse refuses is ErrRejected", func(t *testing.T) {
		for name, stage := range map[string]schema.StageEvent{
			"no account": {CandidateID: "a4one", Stage: "Offer", ChangedAt: t1},
			"no date":    {AccountID: "acme", CandidateID: "a4one", Stage: "Offer", Origin: schema.OriginWebhook},
		} {
			if _, err := db.InsertWebhookEvents(ctx, []schema.WebhookEvent{ev("acme", "refused")}, []schema.StageEvent{stage}); !errors.Is(err, ErrRejected) {
				t.Errorf("%s: %v, want ErrRejected", name, err)
			}
		}
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.InsertWebhookEvents(ctx, []schema.WebhookEvent{ev("acme", "cancelled")}, nil); err == nil || errors.Is(err, ErrRejected) {
			t.Errorf("cancelled: %v, want an error that is not ErrRejected", err)
		}
	})

	t.Run("every text column is sanitized", func(t *testing.T) {
		e := ev("acme", "ssn")
		e.Stage, e.UserType = "Called 123-45-6789", "USER 123-45-6789"
		stage := schema.StageEvent{AccountID: "acme", CandidateID: "a4one", Stage: "Checked 123-45-6789", ChangedAt: t2.Add(time.Hour),
			ChangedBy: "123-45-6789", Origin: schema.OriginWebhook}
		if _, err := db.InsertWebhookEvents(ctx, []schema.WebhookEvent{e}, []schema.StageEvent{stage}); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"webhook_events", "stage_events"} {
			if s := dump(t, db, table); strings.Contains(s, "123-45-6789") {
				t.Errorf("%s keeps an SSN: %s", table, s)
			}
		}
		if n := one[int](t, db, `SELECT count(*) FROM stage_events WHERE stage = 'Checked XXX-XX-XXXX'`); n != 1 {
			t.Errorf("%d masked stage events, want 1", n)
		}
	})
}
