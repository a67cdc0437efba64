package sync

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

// TestSyncer_receivedRowsSkipHashing: a scan hashes, as stored, only the
// list rows whose bytes differ from the bytes recorded for the stored row
// hash; the others are unchanged at the cost of a 64-bit hash. Not
// parallel: it swaps listRowHash.
func TestSyncer_receivedRowsSkipHashing(t *testing.T) {
	e := newEnv(t, 230, nil)
	sub := e.tenant.Subdomain
	e.mustRun(ModeBackfill)
	current := `SELECT count(*) FROM stackhouse_internal.received r JOIN candidates c
		ON c.account_id = r.account_id AND c.candidate_id = r.candidate_id AND c.row_hash = r.row_hash`
	if got, all := e.count(current), e.count(`SELECT count(*) FROM stackhouse_internal.received`); got != 230 || all != 230 {
		t.Fatalf("after the backfill %d received records of the current row hash (%d in all), want 230", got, all)
	}

	var hashed atomic.Int64
	saved := listRowHash
	listRowHash = func(raw json.RawMessage) string { hashed.Add(1); return saved(raw) }
	t.Cleanup(func() { listRowHash = saved })
	sync := func(want int64, what string) {
		t.Helper()
		hashed.Store(0)
		res := e.mustRun(ModeSync)
		if got := hashed.Load(); got != want {
			t.Errorf("%s: %d rows hashed as stored, want %d", what, got, want)
		}
		if res.Run.RowsChanged != want || res.Run.RowsNew+res.Run.RowsDeleted != 0 {
			t.Errorf("%s: run %+v, want %d changed", what, res.Run, want)
		}
	}
	sync(0, "unchanged")

	serials, _ := e.fake.Serials(sub, fake.ListCandidates)
	e.fake.Advance(time.Hour)
	for _, s := range serials[5:8] {
		if err := e.fake.MoveStage(sub, s, "Interview"); err != nil {
			t.Fatal(err)
		}
	}
	sync(3, "three moved")
	if got := e.count(current); got != 230 {
		t.Errorf("after three changes %d received records of the current row hash, want 230", got)
	}
	sync(0, "unchanged again")

	// A row hash changed by another path no longer matches its record: the
	// row is hashed, found different from the stored hash, and fetched.
	if _, err := e.sql().Exec(`UPDATE candidates SET row_hash = 'other' WHERE candidate_id = ?`, serials[9]); err != nil {
		t.Fatal(err)
	}
	sync(1, "row hash changed elsewhere")
	sync(0, "and then unchanged")
}
