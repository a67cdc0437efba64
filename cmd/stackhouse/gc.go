package main

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// gcHeadroom is the least the Go heap may grow between two collections.
//
// Go's default (GOGC=100) lets the heap grow by its live size before the
// next collection. A sync's live Go heap is small (10–20 MB in a 100k
// backfill: most of its data is in DuckDB) and it allocates fast (every
// detail decoded, sanitized, mapped and batched), so it collected 15 times
// a second, 7 % of its CPU. With 64 MB of headroom it collected 57 times
// instead of 376, and took 22.6–22.7 s instead of 24.1–24.3 s side by side.
// A live heap above 64 MB keeps Go's default, so the memory this costs is
// at most 64 MB, whatever the size.
const gcHeadroom = 64 << 20

// gcPercent is the GOGC that lets a heap of live bytes grow by
// max(live, headroom) before the next collection.
func gcPercent(live, headroom uint64) int {
	if live == 0 || live >= headroom {
		return 100
	}
	return int(headroom * 100 / live)
}

// keepGCHeadroom sets GOGC from the live heap (gcPercent with gcHeadroom)
// every interval until ctx ends. A GOGC or GOMEMLIMIT in the environment
// is the user's choice: it does nothing then.
func keepGCHeadroom(ctx context.Context, interval time.Duration) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := 100
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			// A change under a tenth is not worth a new goal.
			if p := gcPercent(sample[0].Value.Uint64(), gcHeadroom); p*10 < current*9 || p*10 > current*11 {
				debug.SetGCPercent(p)
				current = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
