package warehouse

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// stintOracle computes an account's stage_stints from its stage events in
// Go, from the definition (migration 0008): an application's changes in
// order of time, then funnel order (unmapped first), then stage name and
// origin; a stint lasts until the next change; consecutive stints in one
// funnel stage (unmapped counting as one) make a stay, whose start and end
// every one of its stints carries.
func stintOracle(account string, events []schema.StageEvent) string {
	rank := func(f string) int {
		if i := slices.Index(schema.FunnelStages(), f); i >= 0 {
			return i + 1
		}
		return 0
	}
	type key struct {
		cand, stage, origin string
		at                  time.Time
	}
	seen := map[key]bool{}
	byCand := map[string][]schema.StageEvent{}
	for _, e := range events {
		k := key{e.CandidateID, e.Stage, e.Origin, e.ChangedAt}
		if seen[k] { // the first stored is kept
			continue
		}
		seen[k] = true
		byCand[e.CandidateID] = append(byCand[e.CandidateID], e)
	}
	ts := func(t *time.Time) string {
		if t == nil {
			return "NULL"
		}
		return t.UTC().Format(time.RFC3339)
	}
	var lines []string
	for cand, evs := range byCand {
		slices.SortFunc(evs, func(a, b schema.StageEvent) int {
			return cmp.Or(a.ChangedAt.Compare(b.ChangedAt), cmp.Compare(rank(a.FunnelStage), rank(b.FunnelStage)),
				cmp.Compare(a.Stage, b.Stage), cmp.Compare(a.Origin, b.Origin))
		})
		for i, e := range evs {
			var left *time.Time
			if i+1 < len(evs) {
				left = &evs[i+1].ChangedAt
			}
			first := i
			for first > 0 && evs[first-1].FunnelStage == e.FunnelStage {
				first--
			}
			last := i
			for last+1 < len(evs) && evs[last+1].FunnelStage == e.FunnelStage {
				last++
			}
			var funnelLeft *time.Time
			if last+1 < len(evs) {
				funnelLeft = &evs[last+1].ChangedAt
			}
			lines = append(lines, fmt.Sprintf("%s %s %d %s %s %s %s %t %s %s", account, cand, i+1, e.Stage, e.FunnelStage,
				ts(&e.ChangedAt), ts(left), first == i, ts(&evs[first].ChangedAt), ts(funnelLeft)))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func stintRows(t *testing.T, db *DB) string {
	t.Helper()
	return one[string](t, db, `SELECT coalesce(string_agg(line, chr(10) ORDER BY line), '') FROM (
		SELECT concat_ws(' ', account_id, candidate_id, seq, stage, coalesce(funnel_stage, ''),
			strftime(entered_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'),
			coalesce(strftime(left_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), 'NULL'),
			enters_funnel_stage,
			strftime(funnel_entered_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'),
			coalesce(strftime(funnel_left_at AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ'), 'NULL')) AS line
		FROM stage_stints)`)
}

// TestDB_Write_stageStints writes stage events in batches that arrive out
// of order (a change older than the ones stored, a duplicate, changes at
// one instant, runs of stages in one funnel stage, unmapped stages) and
// checks after each write that stage_stints is what the definition gives
// from every event written so far, and that an application with no new
// event keeps its stints as they were.
func TestDB_Write_stageStints(t *testing.T) {
	db := openAt(t, "")
	day := func(d int, h int) time.Time { return t0.AddDate(0, 0, d).Add(time.Duration(h) * time.Hour) }
	ev := func(cand, stage, funnel string, at time.Time, origin string) schema.StageEvent {
		e := event(cand, stage, funnel, at)
		e.Origin = origin
		return e
	}
	batches := [][]schema.StageEvent{
		{
			ev("a4one", "New", schema.FunnelApplied, day(0, 0), schema.OriginNote),
			ev("a4one", "Phone Screen", schema.FunnelScreened, day(2, 0), schema.OriginNote),
			ev("a4one", "Manager Review", schema.FunnelScreened, day(5, 0), schema.OriginNote),
			ev("a4one", "Interview", schema.FunnelInterviewed, day(9, 0), schema.OriginNote),
			ev("a4two", "New", schema.FunnelApplied, day(1, 0), schema.OriginNote),
			ev("a4two", "Odd Stage", "", day(3, 0), schema.OriginNote),
			ev("a4two", "Other Odd", "", day(4, 0), schema.OriginNote),
		},
		{
			// Older than a4one's stored changes, inside its screening stay.
			ev("a4one", "Reference Check", schema.FunnelScreened, day(3, 0), schema.OriginWebhook),
			// A duplicate of a stored change, and a move to hired and on to
			// rejected at one instant (funnel order: hired, then rejected).
			ev("a4two", "New", schema.FunnelApplied, day(1, 0), schema.OriginNote),
			ev("a4two", "Do Not Pursue", schema.FunnelRejected, day(6, 0), schema.OriginNote),
			ev("a4two", "Hired", schema.FunnelHired, day(6, 0), schema.OriginNote),
		},
		{
			// The same change seen twice (note and webhook), and an untouched
			// third application.
			ev("a4one", "Offer", schema.FunnelOffered, day(12, 0), schema.OriginNote),
			ev("a4one", "Offer", schema.FunnelOffered, day(12, 0), schema.OriginWebhook),
			ev("a4three", "New", schema.FunnelApplied, day(2, 5), schema.OriginObserved),
			// A history that starts in unmapped stages.
			ev("a4four", "Odd Stage", "", day(1, 0), schema.OriginNote),
			ev("a4four", "Other Odd", "", day(2, 0), schema.OriginNote),
			ev("a4four", "New", schema.FunnelApplied, day(3, 0), schema.OriginNote),
			// Two changes at one instant in one funnel stage: by stage name.
			ev("a4five", "Phone Screen", schema.FunnelScreened, day(4, 0), schema.OriginNote),
			ev("a4five", "Manager Review", schema.FunnelScreened, day(4, 0), schema.OriginNote),
			ev("a4five", "Interview", schema.FunnelInterviewed, day(6, 0), schema.OriginNote),
		},
		{
			// A change earlier than all of a4one's: it enters first.
			ev("a4one", "Applied", schema.FunnelApplied, day(-1, 0), schema.OriginObserved),
		},
	}
	var all []schema.StageEvent
	for i, evs := range batches {
		var before string
		if i == 3 {
			before = one[string](t, db, `SELECT string_agg(seq || entered_at::VARCHAR, ',' ORDER BY seq) FROM stage_stints WHERE candidate_id = 'a4three'`)
		}
		write(t, db, &Batch{Account: "acme", At: day(20, 0), StageEvents: evs})
		all = append(all, evs...)
		if got, want := stintRows(t, db), stintOracle("acme", all); got != want {
			t.Fatalf("stage_stints after batch %d:\n%s\nwant:\n%s", i+1, got, want)
		}
		if i == 3 {
			if after := one[string](t, db, `SELECT string_agg(seq || entered_at::VARCHAR, ',' ORDER BY seq) FROM stage_stints WHERE candidate_id = 'a4three'`); after != before {
				t.Errorf("a4three's stints changed with no new event: %s, were %s", after, before)
			}
		}
	}
	// The spot checks the oracle could share a mistake with.
	if got := one[string](t, db, `SELECT string_agg(stage || ':' || enters_funnel_stage, ',' ORDER BY seq) FROM stage_stints WHERE candidate_id = 'a4two'`); got != "New:true,Odd Stage:true,Other Odd:false,Hired:true,Do Not Pursue:true" {
		t.Errorf("a4two's stints: %s", got)
	}
	if got := one[string](t, db, `SELECT string_agg(stage, ',' ORDER BY seq) FROM stage_stints
			WHERE candidate_id = 'a4one' AND funnel_left_at = TIMESTAMPTZ '`+day(9, 0).Format(time.RFC3339)+`'`); got != "Phone Screen,Reference Check,Manager Review" {
		t.Errorf("a4one's screening stay: %s", got)
	}
}

// TestOpen_upgrade_stageStints opens a database left at migration 0007
// that holds stage events and checks that 0008 builds every application's
// stints from them, as the definition gives.
func TestOpen_upgrade_stageStints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	old := openThrough(t, path, 7)
	var evs []schema.StageEvent
	for i := range 30 {
		cand := fmt.Sprintf("a4%04d", i%7)
		stages := []struct{ stage, funnel string }{{"New", schema.FunnelApplied}, {"Phone Screen", schema.FunnelScreened},
			{"Manager Review", schema.FunnelScreened}, {"Interview", schema.FunnelInterviewed}, {"Odd", ""}}
		s := stages[i%len(stages)]
		evs = append(evs, event(cand, s.stage, s.funnel, t0.Add(time.Duration(i*i%50)*time.Hour)))
	}
	for _, e := range evs {
		if _, err := old.sql.ExecContext(ctx, `INSERT INTO stage_events VALUES ('acme', ?, ?, ?, nullif(?, ''), ?, ?, ?)`,
			e.CandidateID, e.JobID, e.Stage, e.FunnelStage, e.ChangedAt, e.ChangedBy, e.Origin); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db := openAt(t, path)
	if got, want := stintRows(t, db), stintOracle("acme", evs); got != want || got == "" {
		t.Errorf("stage_stints after 0008:\n%s\nwant:\n%s", got, want)
	}
}

// TestDB_Merge_stintsQueued checks the shared landing's path: a merge's
// slices queue the applications they store stage events of, and the stints
// are rebuilt once they are done; a merge interrupted between its slices
// and that rebuild leaves them queued, and the next Merge, with nothing
// landed, rebuilds them.
func TestDB_Merge_stintsQueued(t *testing.T) {
	ctx := context.Background()
	db := openAt(t, "")
	evs := []schema.StageEvent{
		event("a4one", "New", schema.FunnelApplied, t0),
		event("a4one", "Phone Screen", schema.FunnelScreened, t1),
		event("a4two", "New", schema.FunnelApplied, t1),
	}
	if err := db.Land(ctx, &Batch{Account: "acme", At: t0, StageEvents: evs}); err != nil {
		t.Fatal(err)
	}
	bounds, err := db.mergeSlices(ctx, "acme")
	if err != nil || len(bounds) == 0 {
		t.Fatalf("slices %v, %v", bounds, err)
	}
	// The slices alone, as a merge killed before its rebuild leaves them.
	for _, upTo := range bounds {
		if err := db.inTx(ctx, &Batch{Account: "acme"}, func(w *tx) error {
			_, err := w.merge(target{upTo: upTo})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n := one[int](t, db, `SELECT count(*) FROM stage_stints`); n != 0 {
		t.Fatalf("%d stints before the rebuild", n)
	}
	if got := one[string](t, db, `SELECT string_agg(candidate_id, ',' ORDER BY candidate_id) FROM `+landSchema+`.stints_pending`); got != "a4one,a4two" {
		t.Fatalf("queued %q, want a4one,a4two", got)
	}
	if _, err := db.Merge(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if got, want := stintRows(t, db), stintOracle("acme", evs); got != want {
		t.Errorf("stage_stints after the next Merge:\n%s\nwant:\n%s", got, want)
	}
	if n := one[int](t, db, `SELECT count(*) FROM `+landSchema+`.stints_pending`); n != 0 {
		t.Errorf("%d applications still queued", n)
	}
	// A Merge with nothing landed and nothing queued changes nothing.
	before := dump(t, db, "stage_stints")
	if _, err := db.Merge(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, db, "stage_stints"); after != before {
		t.Errorf("an idle Merge changed stage_stints:\n%s\nwas:\n%s", after, before)
	}
}
