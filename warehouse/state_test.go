package warehouse

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

func TestDB_States(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	b := fullBatch(t0)
	b.Candidates[0].DetailHash = b.Candidates[0].RowHash
	b.Candidates = append(b.Candidates, candidate("a4three", func(c *schema.Candidate) {
		c.Stage, c.RowHash, c.DetailHash = "", "h3", "old"
	}))
	write(t, db, b)
	write(t, db, &Batch{Account: "beta", At: t0, Candidates: []schema.Candidate{candidate("a4beta")}})
	if _, err := db.MarkDeleted(ctx, "acme", "candidates", t1, t1); err != nil {
		t.Fatal(err)
	}
	write(t, db, &Batch{Account: "acme", At: t2, SeenCandidates: []string{"a4one", "a4three"}})

	t.Run("candidates", func(t *testing.T) {
		states, err := db.CandidateStates(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]CandidateState{
			"a4one":   {RowHash: "h-a4one", DetailHash: "h-a4one", Stage: "Interview"},
			"a4two":   {RowHash: "h-a4two", Stage: "Interview", Deleted: true},
			"a4three": {RowHash: "h3", DetailHash: "old"},
		}
		got := map[string]CandidateState{}
		for serial, st := range states.All() {
			got[serial] = st
		}
		if !reflect.DeepEqual(got, want) || states.Len() != len(want) {
			t.Errorf("CandidateStates =\n%v\nwant\n%v", got, want)
		}
		for serial, w := range want {
			if st, ok := states.Get(serial); !ok || st != w {
				t.Errorf("Get(%q) = %+v, %v; want %+v", serial, st, ok, w)
			}
		}
		for _, serial := range []string{"a4beta", "", "a4on", "a4onee"} {
			if st, ok := states.Get(serial); ok {
				t.Errorf("Get(%q) = %+v, want not found", serial, st)
			}
		}
		var none *CandidateStates
		if _, ok := none.Get("a4one"); ok || none.Len() != 0 {
			t.Error("a nil index is not empty")
		}
		if empty, err := db.CandidateStates(ctx, "nobody"); err != nil || empty.Len() != 0 {
			t.Errorf("unknown account: %v, %v", empty, err)
		} else if _, ok := empty.Get("a4one"); ok {
			t.Error("empty index finds a serial")
		}
	})
	t.Run("jobs", func(t *testing.T) {
		got, err := db.JobStates(ctx, "acme")
		want := map[string]JobState{"a2job1": {RemoteUpdatedAt: t0, RowHash: "jh1"}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("JobStates = %v, %v; want %v", got, err, want)
		}
	})
	t.Run("hires", func(t *testing.T) {
		got, err := db.HireStates(ctx, "acme")
		if err != nil || !reflect.DeepEqual(got, map[string]string{"e2one": "hh1"}) {
			t.Errorf("HireStates = %v, %v", got, err)
		}
	})
	t.Run("attachments", func(t *testing.T) {
		write(t, db, &Batch{Account: "acme", At: t2, Attachments: []schema.Attachment{{AttachmentID: "a6new", CandidateID: "a4one"}}})
		got, err := db.AttachmentSHA(ctx, "acme")
		if err != nil || !reflect.DeepEqual(got, map[string]string{"a6one": "abc"}) {
			t.Errorf("AttachmentSHA = %v, %v; want only the downloaded file", got, err)
		}
	})
	t.Run("counts", func(t *testing.T) {
		got, err := db.Counts(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"jobs": 1, "candidates": 2, "hires": 1, "attachments": 2, "stage_events": 2,
			"rejected_records": 1, "webhook_events": 0, "sync_runs": 0}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Counts(acme) = %v, want %v", got, want)
		}
		all, _ := db.Counts(ctx, "")
		if all["candidates"] != 3 {
			t.Errorf("Counts(\"\") candidates = %d, want 3", all["candidates"])
		}
	})
}

func TestDB_PendingDetails(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	day := func(d int) time.Time { return t0.AddDate(0, 0, d) }
	cands := []schema.Candidate{
		candidate("a4done", func(c *schema.Candidate) { c.DetailHash = c.RowHash; c.AppliedAt = day(9) }),
		candidate("a4oldactive", func(c *schema.Candidate) { c.AppliedAt = day(1) }),
		candidate("a4newactive", func(c *schema.Candidate) { c.AppliedAt = day(5) }),
		candidate("a4unmapped", func(c *schema.Candidate) { c.FunnelStage = ""; c.AppliedAt = day(3) }),
		candidate("a4hired", func(c *schema.Candidate) { c.FunnelStage = schema.FunnelHired; c.AppliedAt = day(8) }),
		candidate("a4rejected", func(c *schema.Candidate) { c.FunnelStage = schema.FunnelRejected; c.AppliedAt = day(2) }),
		candidate("a4stale", func(c *schema.Candidate) { c.DetailHash = "older"; c.AppliedAt = day(4) }),
		candidate("a4nodate", func(c *schema.Candidate) { c.AppliedAt = time.Time{} }),
		candidate("a4gone", func(c *schema.Candidate) { c.AppliedAt = day(7) }),
	}
	write(t, db, &Batch{Account: "acme", At: t0, Candidates: cands})
	write(t, db, &Batch{Account: "acme", At: t1, SeenCandidates: []string{"a4done", "a4oldactive", "a4newactive",
		"a4unmapped", "a4hired", "a4rejected", "a4stale", "a4nodate"}})
	if n, err := db.MarkDeleted(ctx, "acme", "candidates", t1, t1); n != 1 || err != nil {
		t.Fatalf("MarkDeleted = %d, %v; want a4gone only", n, err)
	}
	got, err := db.PendingDetails(ctx, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a4newactive", "a4stale", "a4unmapped", "a4oldactive", "a4nodate", "a4hired", "a4rejected"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PendingDetails =\n%v\nwant\n%v", got, want)
	}
	if got, _ := db.PendingDetails(ctx, "acme", 2); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("PendingDetails(limit 2) = %v", got)
	}
}

func TestDB_MarkDeleted(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	write(t, db, fullBatch(t0))
	write(t, db, &Batch{Account: "beta", At: t0, Candidates: []schema.Candidate{candidate("a4beta")}})
	// The scan starts at t1 and sees a4two only.
	write(t, db, &Batch{Account: "acme", At: t1.Add(time.Minute), SeenCandidates: []string{"a4two"}})
	n, err := db.MarkDeleted(ctx, "acme", "candidates", t1, t2)
	if err != nil || n != 1 {
		t.Fatalf("MarkDeleted = %d, %v; want 1", n, err)
	}
	if got := one[string](t, db, `SELECT string_agg(candidate_id) FROM candidates WHERE remote_deleted_at = $1`, t2); got != "a4one" {
		t.Errorf("deleted %q, want a4one", got)
	}
	if n, _ := db.MarkDeleted(ctx, "acme", "candidates", t2, t2.Add(time.Hour)); n != 1 {
		t.Errorf("second scan marked %d, want only a4two (a4one keeps its first deletion)", n)
	}
	if at := one[time.Time](t, db, `SELECT remote_deleted_at FROM candidates WHERE candidate_id = 'a4one'`); !at.Equal(t2) {
		t.Errorf("a4one remote_deleted_at moved to %v", at)
	}
	if n := one[int](t, db, `SELECT count(*) FROM candidates WHERE account_id = 'beta' AND remote_deleted_at IS NULL`); n != 1 {
		t.Error("MarkDeleted touched another account")
	}
	for _, r := range []string{"job", "hires", "attachments"} {
		if n, err := db.MarkDeleted(ctx, "acme", r, t1, t2); n != 1 || err != nil {
			t.Errorf("MarkDeleted(%s) = %d, %v; want 1", r, n, err)
		}
	}
	if _, err := db.MarkDeleted(ctx, "acme", "stage_events", t1, t2); err == nil {
		t.Error("MarkDeleted accepted stage_events")
	}
}

func TestCandidateStates_many(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const n = 20_000
	preload(t, db, "acme", n)
	states, err := db.CandidateStates(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.SQL().Query(`SELECT candidate_id, row_hash, coalesce(detail_hash, ''), stage, remote_deleted_at IS NOT NULL
		FROM candidates WHERE account_id = 'acme'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var id string
		var want CandidateState
		if err := rows.Scan(&id, &want.RowHash, &want.DetailHash, &want.Stage, &want.Deleted); err != nil {
			t.Fatal(err)
		}
		if got, ok := states.Get(id); !ok || got != want {
			t.Fatalf("Get(%q) = %+v, %v; want %+v", id, got, ok, want)
		}
		if _, ok := states.Get(id + "x"); ok {
			t.Fatalf("Get(%q) found a serial that does not exist", id+"x")
		}
		seen++
	}
	if seen != n || states.Len() != n {
		t.Errorf("checked %d, index holds %d, want %d", seen, states.Len(), n)
	}
}

func TestDB_CandidateStatesOf(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	b := &Batch{Account: "acme", RunID: "r1", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for _, id := range []string{"a4one", "a4two", "a4three"} {
		b.Candidates = append(b.Candidates, schema.Candidate{AccountID: "acme", CandidateID: id, Stage: "New", RowHash: "h-" + id})
	}
	if err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	s, err := db.CandidateStatesOf(ctx, "acme", []string{"a4two", "a4three", "a4missing"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 {
		t.Fatalf("%d states, want 2", s.Len())
	}
	if st, ok := s.Get("a4two"); !ok || st.RowHash != "h-a4two" || st.Stage != "New" {
		t.Errorf("a4two = %+v, %v", st, ok)
	}
	if _, ok := s.Get("a4one"); ok {
		t.Error("a4one was not asked for")
	}
	if s, err := db.CandidateStatesOf(ctx, "acme", nil); err != nil || s.Len() != 0 {
		t.Errorf("no serials: %v, %v", s, err)
	}
}
