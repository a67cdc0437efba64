package daemon

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/sync"
)

// BenchmarkDaemon_webhookIngest posts b.N distinct candidate stage-change
// webhooks from 32 concurrent senders over loopback to a daemon whose
// account is in the middle of a sync (the worst case: the sync's writer
// commits batches between the webhook commits), and reports the ingest
// rate and the p50 and p99 latency of a 2xx, which the daemon sends only
// once the event is stored. One op is one webhook; a sync's warm-up makes
// small b.N noisy, so measure with e.g. -benchtime=5000x.
func BenchmarkDaemon_webhookIngest(b *testing.B) {
	const senders = 32
	ln, _ := hookListener(b, "acme")
	e := newEnv(b, 21000, nil)
	e.account().Attachments = new(false)
	d := e.daemon(ln, sync.ScheduleConfig{Sync: "@every 1s"})
	d.ShutdownTimeout = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	waitFor(b, time.Minute, "a sync writing candidates", func() bool {
		return d.ready.Load() && e.count(`SELECT count(*) FROM candidates`) > 0
	})

	serials, _ := e.fake.Serials("acme", fake.ListCandidates)
	pipeline, _ := e.fake.Pipeline("acme")
	secret := e.tenant.WebhookSecret
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	url := "http://" + d.Addr() + "/webhooks/applicantstack/acme"
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	defer client.CloseIdleConnections()
	bodies := make([][]byte, b.N)
	for i := range bodies {
		p := hookPayload(secret, serials[i%len(serials)], pipeline[i%len(pipeline)], base.Add(time.Duration(i)*time.Second))
		p["User Serial"] = "a1bench" + strconv.Itoa(i)
		bodies[i] = mustJSON(b, p)
	}
	work := make(chan int)
	lat := make([]time.Duration, b.N)
	errs := make(chan error, senders)

	b.ResetTimer()
	began := time.Now()
	for range senders {
		go func() {
			var err error
			for i := range work {
				if err != nil {
					continue
				}
				t0 := time.Now()
				resp, perr := client.Post(url, "application/json", bytes.NewReader(bodies[i]))
				if perr != nil {
					err = perr
					continue
				}
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					err = &statusError{resp.StatusCode}
				}
			}
			errs <- err
		}()
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	for range senders {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(began)
	b.StopTimer()

	if e.count(`SELECT count(*) FROM sync_runs WHERE mode = 'sync' AND status = 'running'`) != 1 {
		b.Log("warning: the sync ended before the webhooks did")
	}
	if n := e.count(`SELECT count(*) FROM webhook_events`); n != b.N {
		b.Fatalf("%d events stored, want %d", n, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }
