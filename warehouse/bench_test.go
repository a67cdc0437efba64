package warehouse

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// preload fills account's candidates (and two stage events each) with n
// rows straight in SQL, which is much faster than building batches.
func preload(b testing.TB, db *DB, account string, n int) {
	b.Helper()
	_, err := db.SQL().Exec(`INSERT INTO candidates (account_id, candidate_id, job_id, email, person_key, stage,
			funnel_stage, applied_at, row_hash, detail_hash, remote_data, first_seen_at, last_seen_at, remote_deleted_at)
		SELECT $1, 'a4' || lpad(i::VARCHAR, 10, '0'), 'a2job' || (i % 50), 'p' || i || '@example.com',
			'p' || i || '@example.com', (['New', 'Interview', 'Offer', 'Hired', 'Do Not Pursue'])[i % 5 + 1],
			(['applied', 'interviewed', 'offered', 'hired', 'rejected'])[i % 5 + 1],
			TIMESTAMPTZ '2020-01-01' + to_seconds(i * 60), substr(md5(i::VARCHAR), 1, 16),
			CASE WHEN i % 10 = 0 THEN NULL ELSE substr(md5(i::VARCHAR), 1, 16) END,
			'{"Candidate Serial":"a4' || i || '","Stage":"New","Source":"Indeed"}',
			now(), now(), CASE WHEN i % 100 = 0 THEN now() END
		FROM range($2) t(i)`, account, n)
	if err != nil {
		b.Fatal(err)
	}
	_, err = db.SQL().Exec(`INSERT INTO stage_events
		SELECT $1, 'a4' || lpad(i::VARCHAR, 10, '0'), 'a2job1', s.stage, s.funnel,
			TIMESTAMPTZ '2020-01-01' + to_seconds(i * 60 + s.k), 'Jane', 'note'
		FROM range($2) t(i), (VALUES (1, 'New', 'applied'), (2, 'Interview', 'interviewed')) s(k, stage, funnel)`, account, n)
	if err != nil {
		b.Fatal(err)
	}
}

func benchCandidates(from, n int, stage string) ([]schema.Candidate, []schema.StageEvent) {
	cands := make([]schema.Candidate, n)
	events := make([]schema.StageEvent, 0, 2*n)
	for i := range n {
		id := fmt.Sprintf("a4%010d", from+i)
		score := float64(i % 100)
		cands[i] = schema.Candidate{CandidateID: id, JobID: "a2job1", FirstName: "Ann", LastName: "Lee",
			Email: id + "@example.com", PersonKey: id + "@example.com", Phone: "9415550100", City: "Naples",
			State: "FL", Zip: "34102", Source: "Indeed", Stage: stage, FunnelStage: schema.FunnelInterviewed,
			Score: &score, AppliedAt: t0, RowHash: fmt.Sprintf("%016x", from+i) + stage[:1],
			RemoteData: json.RawMessage(`{"Candidate Serial":"` + id + `","Stage":"` + stage + `","Source":"Indeed","Notes":[]}`)}
		events = append(events,
			schema.StageEvent{CandidateID: id, Stage: "New", FunnelStage: schema.FunnelApplied, ChangedAt: t0, Origin: schema.OriginNote},
			schema.StageEvent{CandidateID: id, Stage: stage, FunnelStage: schema.FunnelInterviewed, ChangedAt: t1, Origin: schema.OriginNote})
	}
	return cands, events
}

// BenchmarkDB_Write writes batches of 1,000 candidates (with two stage
// events each, as a detail fetch yields) into a table of 100k candidates.
func BenchmarkDB_Write(b *testing.B) {
	ctx := context.Background()
	const existing, batch = 100_000, 1_000
	run := func(b *testing.B, name string, next func(i int) *Batch, rows int) {
		b.Run(name, func(b *testing.B) {
			db := openTest(b)
			preload(b, db, "acme", existing)
			i := 0
			for b.Loop() {
				if err := db.Write(ctx, next(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(rows*i)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	run(b, "insert", func(i int) *Batch {
		c, e := benchCandidates(existing+i*batch, batch, "Interview")
		return &Batch{Account: "acme", At: t0.Add(time.Duration(i) * time.Second), Candidates: c, StageEvents: e}
	}, batch)
	run(b, "update", func(i int) *Batch {
		stage := []string{"Offer", "Interview"}[i%2]
		c, e := benchCandidates((i*batch)%existing, batch, stage)
		return &Batch{Account: "acme", At: t0.Add(time.Duration(i) * time.Second), Candidates: c, StageEvents: e}
	}, batch)
	const seen = 10_000
	run(b, "seen", func(i int) *Batch {
		ids := make([]string, seen)
		for k := range ids {
			ids[k] = fmt.Sprintf("a4%010d", (i*seen+k)%existing)
		}
		return &Batch{Account: "acme", At: t0.Add(time.Duration(i) * time.Second), SeenCandidates: ids}
	}, seen)
}

// BenchmarkDB_CandidateStates loads the states of a 1M-candidate account and
// reports the heap the map keeps.
func BenchmarkDB_CandidateStates(b *testing.B) {
	ctx := context.Background()
	const n = 1_000_000
	db := openTest(b)
	preload(b, db, "acme", n)
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		states, err := db.CandidateStates(ctx, "acme")
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		if states.Len() != n {
			b.Fatalf("%d states", states.Len())
		}
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(states)
	}
	b.ReportMetric(float64(heap)/(1<<20), "MiB")
	b.ReportMetric(float64(heap)/n, "B/row")
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkCandidateStates_Get looks serials up in a 1M-candidate index, as
// a sync does for every list row.
func BenchmarkCandidateStates_Get(b *testing.B) {
	const n = 1_000_000
	db := openTest(b)
	preload(b, db, "acme", n)
	states, err := db.CandidateStates(context.Background(), "acme")
	if err != nil {
		b.Fatal(err)
	}
	serials := make([]string, 4096)
	for i := range serials {
		serials[i] = fmt.Sprintf("a4%010d", i*241%n)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, ok := states.Get(serials[i%len(serials)]); !ok {
			b.Fatal("missing")
		}
		i++
	}
}

// BenchmarkDB_Land lands a backfill's worth of candidates with 3 KB of
// remote_data and five stage events each, in batches of 2,000 as the sync
// engine does, then merges them: the cost of the write path per
// application, whatever the network.
func BenchmarkDB_Land(b *testing.B) {
	ctx := context.Background()
	const n, per = 100_000, 2_000
	pad := `,"Cover Letter":"` + strings.Repeat("lorem ipsum dolor sit amet ", 110) + `"}`
	for b.Loop() {
		db, err := Open(ctx, b.TempDir()+"/wh.duckdb?memory_limit=512MB")
		if err != nil {
			b.Fatal(err)
		}
		var land, merge time.Duration
		for from := 0; from < n; from += per {
			cands, events := benchCandidates(from, per, "Interview")
			for i := range cands {
				cands[i].RemoteData = append(cands[i].RemoteData[:len(cands[i].RemoteData)-1], pad...)
			}
			events = append(events, events...)
			start := time.Now()
			if err := db.Land(ctx, &Batch{Account: "acme", At: t0, Candidates: cands, StageEvents: events}); err != nil {
				b.Fatal(err)
			}
			land += time.Since(start)
		}
		start := time.Now()
		if _, err := db.Merge(ctx, "acme"); err != nil {
			b.Fatal(err)
		}
		merge = time.Since(start)
		b.ReportMetric(float64(land.Microseconds())/n, "land-µs/application")
		b.ReportMetric(float64(merge.Microseconds())/n, "merge-µs/application")
		db.Close()
	}
}
