package sync

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
)

// Benchmark knobs, from the environment: STACKHOUSE_BENCH_CANDIDATES (the
// account size, default 100,000) and STACKHOUSE_BENCH_LATENCY (added to
// every answer of the fake, e.g. "20ms", to model a real API's round trip).
func benchKnobs() (candidates int, latency time.Duration) {
	candidates = 100_000
	if v, err := strconv.Atoi(os.Getenv("STACKHOUSE_BENCH_CANDIDATES")); err == nil && v > 0 {
		candidates = v
	}
	latency, _ = time.ParseDuration(os.Getenv("STACKHOUSE_BENCH_LATENCY"))
	return candidates, latency
}

// BenchmarkSyncer measures, on one fake account over loopback: a backfill
// (time to list every page, and the whole load with details and files),
// an incremental run with nothing changed and with 1% changed, requests
// made against the minimum, peak RSS, and the ratio of the backfill to a
// bare net/http loop making the same requests at the same concurrency.
// Run it with -benchtime=1x: each step runs once.
func BenchmarkSyncer(b *testing.B) {
	const conc = 4
	candidates, latency := benchKnobs()
	e := newEnv(b, candidates, func(t *fake.Tenant) { t.Jobs = 200 })
	if latency > 0 {
		e.fake.SetFaults(e.tenant.Subdomain, fake.Faults{Latency: latency})
	}
	b.Logf("%d candidates, %v added latency, concurrency %d", candidates, latency, conc)
	e.s.BatchRows, e.s.DetailChunk = DefaultBatchRows, DefaultDetailChunk
	e.account().Concurrency = conc
	e.s.Client(e.account()).Concurrency = conc
	sub := e.tenant.Subdomain
	ctx := context.Background()
	minimum := func(details, files int64) int64 {
		st := e.fake.Stats(sub)
		return listRequests(st) + details + files
	}

	// The Go heap's peak, sampled, tells Go's share of the peak RSS from
	// DuckDB's (C) share.
	var heapPeak atomic.Uint64
	stopSampling := make(chan struct{})
	defer close(stopSampling)
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > heapPeak.Load() {
				heapPeak.Store(ms.HeapInuse)
			}
		}
	}()
	var scanDone time.Duration
	var backfill time.Duration
	b.Run("backfill", func(b *testing.B) {
		for b.Loop() {
			e.fake.ResetStats(sub)
			start := time.Now()
			e.s.OnProgress = func(p *Progress) {
				go func() {
					for p.Phase() != "details" && p.Phase() != "done" {
						time.Sleep(5 * time.Millisecond)
					}
					scanDone = time.Since(start)
				}()
			}
			res := e.mustRun(ModeBackfill)
			backfill = time.Since(start)
			e.s.OnProgress = nil
			st := e.fake.Stats(sub)
			var total int64
			for _, n := range st.Requests {
				total += n
			}
			b.ReportMetric(scanDone.Seconds(), "lists-s")
			b.ReportMetric(backfill.Seconds(), "total-s")
			b.ReportMetric(float64(res.Run.RowsNew)/backfill.Seconds(), "records/s")
			b.ReportMetric(float64(total), "requests")
			b.ReportMetric(float64(minimum(st.Requests[fake.KindJob]+st.Requests[fake.KindCandidate]+st.Requests[fake.KindHire], st.Requests[fake.KindAttachment])), "minimum")
			b.ReportMetric(float64(res.Run.FilesDownloaded), "files")
		}
	})

	b.Run("bare-loop", func(b *testing.B) {
		// The same requests as the backfill: every list page, every detail,
		// every file, at the same concurrency, bodies discarded.
		var paths []string
		for _, l := range []struct{ list, path string }{{fake.ListJobs, "/api/jobs/"}, {fake.ListCandidates, "/api/candidates/"}, {fake.ListHires, "/o/api/hires/"}} {
			serials, _ := e.fake.Serials(sub, l.list)
			for p := 1; p <= (len(serials)+99)/100; p++ {
				paths = append(paths, l.path+strconv.Itoa(p))
			}
		}
		var urls []string
		for _, l := range []struct{ list, path string }{{fake.ListJobs, "/api/job/"}, {fake.ListCandidates, "/api/candidate/"}, {fake.ListHires, "/o/api/hire/"}} {
			serials, _ := e.fake.Serials(sub, l.list)
			for _, s := range serials {
				paths = append(paths, l.path+s)
				if l.list == fake.ListCandidates {
					ct, _ := e.fake.Candidate(sub, s, e.base)
					for _, f := range ct.Files {
						urls = append(urls, fileURL(ct.Detail, f.Serial))
					}
				}
			}
		}
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
		get := func(ctx context.Context, u string) error {
			req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
			req.Header.Set("Token", e.tenant.Token)
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		}
		for b.Loop() {
			start := time.Now()
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(conc)
			for _, p := range paths {
				g.Go(func() error { return get(gctx, e.base+p) })
			}
			for _, u := range urls {
				g.Go(func() error { return get(gctx, u) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			bare := time.Since(start)
			b.ReportMetric(bare.Seconds(), "total-s")
			b.ReportMetric(float64(len(paths)+len(urls)), "requests")
			b.ReportMetric(backfill.Seconds()/bare.Seconds(), "sync/bare")
		}
	})

	b.Run("incremental-unchanged", func(b *testing.B) {
		for b.Loop() {
			e.fake.ResetStats(sub)
			reportSync(b, e, sub, 0)
		}
	})

	b.Run("incremental-1pct", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			serials, _ := e.fake.Serials(sub, fake.ListCandidates)
			e.fake.Advance(time.Hour)
			changed := 0
			for i := 0; i < len(serials)/100; i++ {
				serial := serials[i*100+7]
				ct, _ := e.truthDetail(serial)
				var row struct{ Stage string }
				jsonUnmarshalQuiet(ct.Row, &row)
				stage := "Interview"
				if row.Stage == stage {
					stage = "Offer"
				}
				if e.fake.MoveStage(sub, serial, stage) == nil {
					changed++
				}
			}
			e.fake.ResetStats(sub)
			b.StartTimer()
			if path := os.Getenv("STACKHOUSE_BENCH_CPUPROFILE"); path != "" {
				f, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				pprof.StartCPUProfile(f)
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
			reportSync(b, e, sub, int64(changed))
		}
	})

	b.Run("peak-rss", func(b *testing.B) {
		for b.Loop() {
		}
		// The whole process: the fake, the sync and DuckDB together.
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		b.ReportMetric(float64(ru.Maxrss)/1024, "MB")
		b.ReportMetric(float64(heapPeak.Load())/(1<<20), "go-heap-MB")
	})
}

// reportSync runs an incremental sync of e and reports its seconds, its
// requests, and the fewest it could make: every list page of sub plus
// extra detail fetches.
func reportSync(b *testing.B, e *env, sub string, extra int64) {
	start := time.Now()
	res := e.mustRun(ModeSync)
	b.ReportMetric(time.Since(start).Seconds(), "total-s")
	b.ReportMetric(float64(res.Run.Requests), "requests")
	b.ReportMetric(float64(listRequests(e.fake.Stats(sub))+extra), "minimum")
}

// fileURL finds the signed link of a file in a candidate's detail.
func fileURL(detail []byte, serial string) string {
	var d applicantstack.Candidate
	if err := jsonUnmarshalQuiet(detail, &d); err != nil {
		return ""
	}
	for _, f := range d.Files {
		if s, _ := applicantstack.FileSerial(string(f.URL)); s == serial {
			return string(f.URL)
		}
	}
	return ""
}
