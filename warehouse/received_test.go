package warehouse

import (
	"context"
	"testing"

	"github.com/stackhouse/stackhouse/schema"
)

// TestDB_CandidateStates_received: the latest received record of a
// candidate is its state's Received while its row hash is the one the
// record was made with.
func TestDB_CandidateStates_received(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	write(t, db, &Batch{Account: "acme", At: t0, Candidates: []schema.Candidate{candidate("a4one"), candidate("a4two")},
		Received: []Received{{"a4one", "h-a4one", 7}, {"a4one", "h-a4one", 42}, {"a4two", "h-other", 9}}})
	// The account's index and the index of the one candidate agree.
	received := func(serial string) uint64 {
		t.Helper()
		all, err := db.CandidateStates(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		of, err := db.CandidateStatesOf(ctx, "acme", []string{serial})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := all.Get(serial)
		o, _ := of.Get(serial)
		if a.Received != o.Received {
			t.Errorf("%s: CandidateStates says received %d, CandidateStatesOf %d", serial, a.Received, o.Received)
		}
		return a.Received
	}
	if got := received("a4one"); got != 42 {
		t.Errorf("a4one received %d, want 42 (the latest)", got)
	}
	if got := received("a4two"); got != 0 {
		t.Errorf("a4two received %d, want 0: its record is of another row hash", got)
	}
	// A new row hash leaves the record behind until one is made for it.
	write(t, db, &Batch{Account: "acme", At: t1, Candidates: []schema.Candidate{candidate("a4one", func(c *schema.Candidate) { c.RowHash = "h2" })}})
	if got := received("a4one"); got != 0 {
		t.Errorf("a4one received %d after its row hash changed, want 0", got)
	}
	write(t, db, &Batch{Account: "acme", At: t1, Received: []Received{{"a4one", "h2", 43}}})
	if got := received("a4one"); got != 43 {
		t.Errorf("a4one received %d, want 43", got)
	}
	if n := one[int](t, db, `SELECT count(*) FROM stackhouse_internal.received WHERE candidate_id = 'a4one'`); n != 1 {
		t.Errorf("%d received records of a4one, want 1", n)
	}
}
