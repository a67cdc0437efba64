package fake

import (
	"io"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func bigTenant() Tenant {
	cfg := NewTenant("big")
	cfg.Jobs = 2000
	cfg.Candidates = 1_000_000
	return cfg
}

// BenchmarkServer_Start1M measures AddTenant for 1,000,000 candidates: time
// per start (ns/op) and the heap the server keeps afterwards (heap-MB).
func BenchmarkServer_Start1M(b *testing.B) {
	cfg := bigTenant()
	var heap float64
	var m0, m1 runtime.MemStats
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		s := NewServer()
		if err := s.AddTenant(cfg); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap = float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc)) / (1 << 20)
		runtime.KeepAlive(s)
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(heap, "heap-MB")
}

// BenchmarkServer_candidatePages fetches candidate list pages of a
// 1,000,000-candidate tenant over loopback HTTP, spread over the whole
// list, with and without 20,000 scattered deletions.
func BenchmarkServer_candidatePages(b *testing.B) {
	for _, deletions := range []int{0, 20000} {
		b.Run("deleted="+strconv.Itoa(deletions), func(b *testing.B) {
			cfg := bigTenant()
			s, srv := newTestServer(b, cfg)
			tn, _ := s.tenant("big")
			for i := range deletions {
				tn.deleted = append(tn.deleted, i*(cfg.Candidates/deletions)+7)
			}
			pages := numPages(tn.liveCandidates())
			client := srv.Client()
			n, bytes := 0, 0
			start := time.Now()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/candidates/"+strconv.Itoa(1+(n*7919)%pages), nil)
				req.Header.Set("Token", cfg.Token)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				k, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
				n++
				bytes += int(k)
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "pages/s")
			b.ReportMetric(float64(bytes)/float64(n), "B/page")
		})
	}
}

// BenchmarkServer_candidateDetail fetches candidate details over loopback
// HTTP.
func BenchmarkServer_candidateDetail(b *testing.B) {
	cfg := bigTenant()
	s, srv := newTestServer(b, cfg)
	tn, _ := s.tenant("big")
	client := srv.Client()
	n := 0
	start := time.Now()
	for b.Loop() {
		serial := tn.candSer.format((n * 104729) % cfg.Candidates)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/candidate/"+serial, nil)
		req.Header.Set("Token", cfg.Token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "details/s")
}
