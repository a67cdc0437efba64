package warehouse

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

func fullBatch(at time.Time) *Batch {
	score := 45.0
	return &Batch{
		Account: "acme", RunID: "r1", At: at,
		Jobs: []schema.Job{{JobID: "a2job1", Code: "1001", Name: "CNA", Status: schema.JobOpen,
			OpenedAt: t0, RemoteCreatedAt: t0, RemoteUpdatedAt: t0, RowHash: "jh1", Description: "Care.",
			RemoteData: json.RawMessage(`{"Job Serial":"a2job1"}`)}},
		Candidates: []schema.Candidate{
			candidate("a4one", func(c *schema.Candidate) { c.Score = &score }),
			candidate("a4two"),
		},
		Hires: []schema.Hire{{HireID: "e2one", CandidateID: "a4one", HireDate: t0.Truncate(24 * time.Hour),
			RowHash: "hh1", RemoteData: json.RawMessage(`{"Hire Serial":"e2one"}`)}},
		Attachments: []schema.Attachment{{AttachmentID: "a6one", CandidateID: "a4one", FileName: "r.pdf",
			AttachmentType: schema.AttachmentResume, ContentType: "application/pdf", SizeBytes: 10,
			SHA256: "abc", BlobPath: "acme/a6one", DownloadedAt: at}},
		StageEvents: []schema.StageEvent{
			event("a4one", "Interview", schema.FunnelInterviewed, t0.Add(-time.Hour)),
			event("a4one", "Hired", schema.FunnelHired, t0),
		},
		Rejected: []schema.Rejected{{Resource: "candidate", RemoteID: "a4bad", Reason: "missing serial",
			Payload: json.RawMessage(`{"x":1}`)}},
		Checkpoint: &Checkpoint{Resource: "candidates", Mode: "backfill", State: json.RawMessage(`{"page":3}`)},
	}
}

var allTables = []string{"jobs", "candidates", "hires", "attachments", "stage_events",
	"rejected_records", "sync_checkpoints"}

func TestDB_Write(t *testing.T) {
	ctx := context.Background()

	t.Run("idempotent", func(t *testing.T) {
		db := openTest(t)
		write(t, db, fullBatch(t0))
		before := map[string]string{}
		for _, table := range allTables {
			before[table] = dump(t, db, table)
			if before[table] == "" {
				t.Fatalf("%s is empty after the first write", table)
			}
		}
		write(t, db, fullBatch(t0))
		for _, q := range []string{
			`SELECT count(*) FROM candidates WHERE json_type(remote_data) <> 'OBJECT'`,
			`SELECT count(*) FROM jobs WHERE json_type(remote_data) <> 'OBJECT'`,
			`SELECT count(*) FROM hires WHERE json_type(remote_data) <> 'OBJECT'`,
			`SELECT count(*) FROM sync_checkpoints WHERE json_type(state) <> 'OBJECT'`,
			`SELECT count(*) FROM rejected_records WHERE json_type(payload::JSON) <> 'OBJECT'`,
		} {
			if n := one[int](t, db, q); n != 0 {
				t.Errorf("%s = %d: JSON stored as a string", q, n)
			}
		}
		for _, table := range allTables {
			if after := dump(t, db, table); after != before[table] {
				t.Errorf("%s changed on rewrite:\nbefore %s\nafter  %s", table, before[table], after)
			}
		}
	})

	t.Run("first_seen_at kept, values updated", func(t *testing.T) {
		db := openTest(t)
		write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{candidate("a4one")}})
		changed := candidate("a4one", func(c *schema.Candidate) { c.Stage, c.RowHash = "Offer", "h2" })
		write(t, db, &Batch{Account: "acme", At: t1, Candidates: []schema.Candidate{changed}})
		var first, last, lastChanged time.Time
		var stage string
		err := db.SQL().QueryRow(`SELECT first_seen_at, last_seen_at, last_changed_at, stage FROM candidates`).Scan(&first, &last, &lastChanged, &stage)
		if err != nil {
			t.Fatal(err)
		}
		if !first.Equal(t0) || !last.Equal(t1) || !lastChanged.Equal(t1) || stage != "Offer" {
			t.Errorf("first %v last %v changed %v stage %q; want t0, t1, t1, Offer", first, last, lastChanged, stage)
		}
		// Same hash again later: seen, not changed.
		write(t, db, &Batch{Account: "acme", At: t2, Candidates: []schema.Candidate{changed}})
		if lc := one[time.Time](t, db, `SELECT last_changed_at FROM candidates`); !lc.Equal(t1) {
			t.Errorf("last_changed_at = %v after an unchanged row, want %v", lc, t1)
		}
		// An older batch does not move last_seen_at back.
		write(t, db, &Batch{Account: "acme", At: t0, SeenCandidates: []string{"a4one"}})
		if ls := one[time.Time](t, db, `SELECT last_seen_at FROM candidates`); !ls.Equal(t2) {
			t.Errorf("last_seen_at = %v, want %v", ls, t2)
		}
	})

	t.Run("empty values are NULL, bookkeeping kept", func(t *testing.T) {
		db := openTest(t)
		b := fullBatch(t0)
		b.Candidates[0].DetailHash = "h-a4one"
		write(t, db, b)
		later := &Batch{Account: "acme", At: t1,
			Jobs: []schema.Job{{JobID: "a2job1", Name: "CNA II", RemoteUpdatedAt: t1}},
			Candidates: []schema.Candidate{candidate("a4one", func(c *schema.Candidate) {
				c.RowHash, c.DetailHash, c.RemoteData, c.Email = "", "", nil, ""
			})},
			Attachments: []schema.Attachment{{AttachmentID: "a6one", CandidateID: "a4one", FileName: "r2.pdf"}},
		}
		write(t, db, later)
		checks := map[string]string{
			`SELECT description FROM jobs`:              "Care.",
			`SELECT row_hash FROM jobs`:                 "jh1",
			`SELECT name FROM jobs`:                     "CNA II",
			`SELECT coalesce(code, '<null>') FROM jobs`: "<null>",
			`SELECT row_hash || ' ' || detail_hash FROM candidates WHERE candidate_id = 'a4one'`:          "h-a4one h-a4one",
			`SELECT coalesce(email, '<null>') FROM candidates WHERE candidate_id = 'a4one'`:               "<null>",
			`SELECT remote_data->>'Candidate Serial' FROM candidates WHERE candidate_id = 'a4one'`:        "a4one",
			`SELECT sha256 || ' ' || blob_path || ' ' || size_bytes || ' ' || file_name FROM attachments`: "abc acme/a6one 10 r2.pdf",
		}
		for q, want := range checks {
			if got := one[string](t, db, q); got != want {
				t.Errorf("%s = %q, want %q", q, got, want)
			}
		}
	})

	t.Run("last row of a key wins", func(t *testing.T) {
		db := openTest(t)
		write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{
			candidate("a4one", func(c *schema.Candidate) { c.Stage = "New" }),
			candidate("a4one", func(c *schema.Candidate) { c.Stage = "Offer" }),
		}})
		if s := one[string](t, db, `SELECT string_agg(stage) FROM candidates`); s != "Offer" {
			t.Errorf("stages = %q, want Offer", s)
		}
	})

	t.Run("revive", func(t *testing.T) {
		db := openTest(t)
		b := fullBatch(t0)
		write(t, db, b)
		for _, r := range []string{"jobs", "candidates", "hires", "attachments"} {
			if _, err := db.MarkDeleted(ctx, "acme", r, t1, t1); err != nil {
				t.Fatal(err)
			}
		}
		if n := one[int](t, db, `SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL`); n != 0 {
			t.Fatalf("%d live candidates after MarkDeleted", n)
		}
		write(t, db, &Batch{Account: "acme", At: t2, SeenJobs: []string{"a2job1"}, SeenCandidates: []string{"a4one"},
			SeenHires: []string{"e2one"}, Candidates: []schema.Candidate{candidate("a4two")}, Attachments: b.Attachments})
		for _, q := range []string{
			`SELECT count(*) FROM jobs WHERE remote_deleted_at IS NULL AND last_seen_at = $1`,
			`SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL AND last_seen_at = $1`,
			`SELECT count(*) FROM hires WHERE remote_deleted_at IS NULL AND last_seen_at = $1`,
			`SELECT count(*) FROM attachments WHERE remote_deleted_at IS NULL AND last_seen_at = $1`,
		} {
			want := 1
			if strings.Contains(q, "candidates") {
				want = 2
			}
			if n := one[int](t, db, q, t2); n != want {
				t.Errorf("%s = %d, want %d", q, n, want)
			}
		}
		if first := one[time.Time](t, db, `SELECT first_seen_at FROM candidates WHERE candidate_id = 'a4two'`); !first.Equal(t0) {
			t.Errorf("revived first_seen_at = %v, want %v", first, t0)
		}
	})

	t.Run("stage events deduplicated", func(t *testing.T) {
		db := openTest(t)
		ev := event("a4one", "Interview", schema.FunnelInterviewed, t0)
		write(t, db, &Batch{Account: "acme", At: t0, StageEvents: []schema.StageEvent{ev, ev}})
		webhook := ev
		webhook.Origin = schema.OriginWebhook
		write(t, db, &Batch{Account: "acme", At: t1, StageEvents: []schema.StageEvent{ev, webhook}})
		if n := one[int](t, db, `SELECT count(*) FROM stage_events`); n != 2 {
			t.Errorf("%d stage events, want 2 (one note, one webhook)", n)
		}
	})

	t.Run("hired_at and rejected_at derived", func(t *testing.T) {
		db := openTest(t)
		write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{candidate("a4one"), candidate("a4two")}})
		var hired, rejected, changed any
		row := `SELECT hired_at, rejected_at, last_changed_at FROM candidates WHERE candidate_id = $1`
		db.SQL().QueryRow(row, "a4one").Scan(&hired, &rejected, &changed)
		if hired != nil || rejected != nil {
			t.Errorf("without events: hired %v rejected %v, want NULL", hired, rejected)
		}
		if c, ok := changed.(time.Time); !ok || !c.Equal(t0.Add(-48*time.Hour)) {
			t.Errorf("last_changed_at = %v, want applied_at", changed)
		}
		// Events arrive without their candidate rows (a later detail fetch).
		write(t, db, &Batch{Account: "acme", At: t1, StageEvents: []schema.StageEvent{
			event("a4one", "Offer", schema.FunnelOffered, t0.Add(-3*time.Hour)),
			event("a4one", "Hired", schema.FunnelHired, t0.Add(-2*time.Hour)),
			event("a4one", "Hired", schema.FunnelHired, t0.Add(-time.Hour)),
			event("a4two", "Withdrawn", schema.FunnelWithdrawn, t0.Add(-5*time.Hour)),
			event("a4two", "Do Not Pursue", schema.FunnelRejected, t0.Add(-4*time.Hour)),
			event("a4two", "Custom", "", t0.Add(-30*time.Minute)),
		}})
		var h, r, c time.Time
		if err := db.SQL().QueryRow(`SELECT hired_at, last_changed_at FROM candidates WHERE candidate_id = 'a4one'`).Scan(&h, &c); err != nil {
			t.Fatal(err)
		}
		if !h.Equal(t0.Add(-2*time.Hour)) || !c.Equal(t0.Add(-time.Hour)) {
			t.Errorf("a4one hired_at %v last_changed_at %v", h, c)
		}
		if err := db.SQL().QueryRow(`SELECT rejected_at, last_changed_at FROM candidates WHERE candidate_id = 'a4two'`).Scan(&r, &c); err != nil {
			t.Fatal(err)
		}
		if !r.Equal(t0.Add(-5*time.Hour)) || !c.Equal(t0.Add(-30*time.Minute)) {
			t.Errorf("a4two rejected_at %v last_changed_at %v", r, c)
		}
		if n := one[int](t, db, `SELECT count(*) FROM candidates WHERE rejected_at IS NOT NULL`); n != 1 {
			t.Errorf("%d candidates rejected, want 1", n)
		}
	})

	t.Run("all or nothing", func(t *testing.T) {
		db := openTest(t)
		b := fullBatch(t0)
		b.StageEvents = append(b.StageEvents, event("a4one", "", "", t1)) // stage is NOT NULL
		err := db.Write(ctx, b)
		if err == nil || !strings.Contains(err.Error(), "stage events") {
			t.Fatalf("Write = %v, want a stage events error", err)
		}
		for _, table := range allTables {
			if s := dump(t, db, table); s != "" {
				t.Errorf("%s has rows after a failed write: %s", table, s)
			}
		}
		if c, _ := db.Checkpoint(ctx, "acme", "candidates"); c != nil {
			t.Errorf("checkpoint %+v committed by a failed write", c)
		}
		write(t, db, fullBatch(t0)) // and the DB is still usable
	})

	t.Run("refuses rows of another account", func(t *testing.T) {
		db := openTest(t)
		b := &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{candidate("a4one", func(c *schema.Candidate) { c.AccountID = "beta" })}}
		if err := db.Write(ctx, b); err == nil || !strings.Contains(err.Error(), `"beta"`) {
			t.Errorf("Write = %v, want an account error", err)
		}
		if err := db.Write(ctx, &Batch{}); err == nil {
			t.Error("Write of a batch without account succeeded")
		}
	})

	t.Run("sensitive payloads sanitized", func(t *testing.T) {
		db := openTest(t)
		write(t, db, &Batch{Account: "acme", RunID: "r1", At: t0,
			Hires: []schema.Hire{{HireID: "e2x", RemoteData: json.RawMessage(`{"Hire Serial":"e2x","SSN":"900-12-3456","DOB":"1/1/1990"}`)}},
			Rejected: []schema.Rejected{{Resource: "hire", Reason: "bad date",
				Payload: json.RawMessage(`{"SSN":"900-12-3456","Forms":[{"x":1}]}`)}},
		})
		for _, table := range []string{"hires", "rejected_records"} {
			if s := dump(t, db, table); strings.Contains(s, "900-") || strings.Contains(s, "1990") || strings.Contains(s, "Forms") {
				t.Errorf("%s holds sensitive data: %s", table, s)
			}
		}
	})
}

func TestDB_Write_concurrent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	wg.Add(3)
	go func() { // the single writer
		defer wg.Done()
		for i := range 20 {
			b := fullBatch(t0.Add(time.Duration(i) * time.Minute))
			b.Candidates = append(b.Candidates, candidate("a4w"+string(rune('a'+i))))
			errs <- db.Write(ctx, b)
		}
	}()
	go func() { // a webhook handler
		defer wg.Done()
		for i := range 50 {
			_, err := db.InsertWebhookEvent(ctx, schema.WebhookEvent{EventID: "ev" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
				AccountID: "acme", ObjectID: "a4one", Payload: json.RawMessage(`{}`)})
			errs <- err
			errs <- db.MarkWebhookApplied(ctx, "acme", []string{"eva"}, t1)
		}
	}()
	go func() { // readers between writes
		defer wg.Done()
		for range 20 {
			_, err := db.CandidateStates(ctx, "acme")
			errs <- err
			_, err = db.PendingDetails(ctx, "acme", 10)
			errs <- err
			_, err = db.MarkDeleted(ctx, "beta", "candidates", t0, t0)
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := one[int](t, db, `SELECT count(*) FROM webhook_events`); n != 50 {
		t.Errorf("%d webhook events, want 50", n)
	}
}
