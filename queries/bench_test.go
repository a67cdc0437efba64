package queries

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/warehouse"
)

// benchSize is the DESIGN.md query target: every metric on 1M applications
// in under a second.
var benchSize = genSize{Accounts: 5, Jobs: 2000, Apps: 1_000_000}

// BenchmarkMetric runs every metric at every grain with default parameters
// (all accounts, all time, as of today) on a generated warehouse of
// 1,000,000 applications and ~2,000 jobs in five accounts in different time
// zones, stored in a DuckDB file as in production. The data is generated
// once, before the sub-benchmarks run.
func BenchmarkMetric(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.duckdb")
	start := time.Now()
	gen, err := warehouse.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	generate(b, gen.SQL(), benchSize)
	if err := gen.UpsertAccounts(context.Background(), genAccounts(benchSize.Accounts)); err != nil {
		b.Fatal(err)
	}
	if err := CreateViews(context.Background(), gen.SQL()); err != nil {
		b.Fatal(err)
	}
	if err := gen.Close(); err != nil {
		b.Fatal(err)
	}
	// Reopen, as stackhouse opens a synced warehouse, so the queries read
	// the stored, compressed tables rather than what the load left in memory.
	db, err := sql.Open("duckdb", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var apps, events int64
	if err := db.QueryRow("SELECT (SELECT count(*) FROM candidates), (SELECT count(*) FROM stage_events)").Scan(&apps, &events); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d applications, %d stage events in %v", apps, events, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	for _, m := range List() {
		grains := m.Grains
		if len(grains) == 0 {
			grains = []string{""}
		}
		for _, g := range grains {
			name := m.Name
			if g != "" {
				name += "/" + g
			}
			b.Run(name, func(b *testing.B) {
				rows := 0
				cpu := processCPU()
				for b.Loop() {
					res, err := Run(ctx, db, m, Params{Grain: g})
					if err != nil {
						b.Fatal(err)
					}
					rows = len(res.Rows)
				}
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64((processCPU()-cpu).Milliseconds())/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
