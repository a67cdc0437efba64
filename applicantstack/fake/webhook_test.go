package fake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// receiver is a webhook endpoint that records what it is sent.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	ct     string
	status func(n int) int // answer to the n-th POST (0-based); nil: 200
	posts  int
}

func newReceiver(t *testing.T) *receiver {
	rec := &receiver{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		n := rec.posts
		rec.posts++
		status := http.StatusOK
		if rec.status != nil {
			status = rec.status(n)
		}
		if status < 300 {
			rec.bodies = append(rec.bodies, b)
		}
		rec.ct = r.Header.Get("Content-Type")
		rec.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *receiver) payloads() [][]byte {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.bodies)
}

func (rec *receiver) contentType() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.ct
}

// serialsOf returns the candidate serials of notifications.
func serialsOf(t *testing.T, bodies [][]byte) []string {
	var out []string
	for _, b := range bodies {
		out = append(out, decodeObject(t, b)["Candidate Serial"].(string))
	}
	return out
}

// hookServer returns a server whose tenant posts to rec, without HTTP
// serving of its own (webhooks need none).
func hookServer(t *testing.T, rec *receiver, f Faults) (*Server, []string) {
	t.Helper()
	s := NewServer()
	s.WebhookBackoff = time.Millisecond
	cfg := testTenant("acme")
	cfg.WebhookURL, cfg.WebhookSecret = rec.URL, "s3cret"
	if err := s.AddTenant(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFaults("acme", f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var moved []string
	serials, _ := s.Serials("acme", ListCandidates)
	for _, serial := range serials[len(serials)-40:] {
		truth, _ := s.Candidate("acme", serial, "")
		if active(decodeObject(t, truth.Row)) && len(moved) < 4 {
			moved = append(moved, serial)
		}
	}
	return s, moved
}

func moveAll(t *testing.T, s *Server, serials []string) {
	t.Helper()
	for _, serial := range serials {
		if err := s.MoveStage("acme", serial, "Do Not Pursue"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FlushWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestServer_webhooks(t *testing.T) {
	t.Run("in order", func(t *testing.T) {
		rec := newReceiver(t)
		s, moved := hookServer(t, rec, Faults{})
		moveAll(t, s, moved)
		if got := serialsOf(t, rec.payloads()); !slices.Equal(got, moved) {
			t.Errorf("received %v, want %v", got, moved)
		}
	})

	t.Run("duplicates", func(t *testing.T) {
		rec := newReceiver(t)
		s, moved := hookServer(t, rec, Faults{WebhookDuplicateRate: 1})
		moveAll(t, s, moved)
		var want []string
		for _, m := range moved {
			want = append(want, m, m)
		}
		if got := serialsOf(t, rec.payloads()); !slices.Equal(got, want) {
			t.Errorf("received %v, want each twice", got)
		}
	})

	t.Run("out of order", func(t *testing.T) {
		rec := newReceiver(t)
		s, moved := hookServer(t, rec, Faults{WebhookOutOfOrder: true, WebhookHold: time.Minute})
		moveAll(t, s, moved)
		want := []string{moved[1], moved[0], moved[3], moved[2]}
		if got := serialsOf(t, rec.payloads()); !slices.Equal(got, want) {
			t.Errorf("received %v, want pairs swapped %v", got, want)
		}
	})

	t.Run("held one goes out after the hold", func(t *testing.T) {
		rec := newReceiver(t)
		s, moved := hookServer(t, rec, Faults{WebhookOutOfOrder: true, WebhookHold: 10 * time.Millisecond})
		s.MoveStage("acme", moved[0], "Do Not Pursue")
		deadline := time.Now().Add(5 * time.Second)
		for len(rec.payloads()) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if len(rec.payloads()) != 1 {
			t.Error("a lone held notification was never sent")
		}
	})

	t.Run("retries", func(t *testing.T) {
		rec := newReceiver(t)
		rec.status = func(n int) int { return []int{500, 200}[n%2] }
		s, moved := hookServer(t, rec, Faults{})
		moveAll(t, s, moved[:2])
		if got := serialsOf(t, rec.payloads()); !slices.Equal(got, moved[:2]) {
			t.Errorf("received %v", got)
		}
		if st := s.Stats("acme"); st.WebhookAttempts != 4 || st.WebhookDelivered != 2 || st.WebhookFailed != 0 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("gives up", func(t *testing.T) {
		rec := newReceiver(t)
		rec.status = func(int) int { return http.StatusServiceUnavailable }
		s, moved := hookServer(t, rec, Faults{})
		moveAll(t, s, moved[:1])
		if st := s.Stats("acme"); st.WebhookAttempts != DefaultWebhookRetries || st.WebhookFailed != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestServer_WebhookBurst(t *testing.T) {
	for _, concurrency := range []int{1, 8} {
		rec := newReceiver(t)
		s, _ := hookServer(t, rec, Faults{})
		res, err := s.WebhookBurst(context.Background(), "acme", 25, concurrency)
		if err != nil {
			t.Fatal(err)
		}
		got := serialsOf(t, rec.payloads())
		if res.Delivered != 25 || len(res.Serials) != 25 || len(got) != 25 {
			t.Fatalf("concurrency %d: %+v, received %d", concurrency, res, len(got))
		}
		if concurrency == 1 && !slices.Equal(got, res.Serials) {
			t.Errorf("synchronous burst out of order")
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(res.Serials))
		if !slices.Equal(got, want) {
			t.Errorf("concurrency %d: received other serials", concurrency)
		}
		for _, serial := range res.Serials[:3] {
			truth, _ := s.Candidate("acme", serial, "")
			if ev := lastEvent(truth); ev.Time.Before(s.Now()) {
				t.Errorf("%s: burst did not move the candidate (%+v)", serial, ev)
			}
		}
	}
}

func TestServer_Close(t *testing.T) {
	// Not parallel: goleak would count other tests' goroutines.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rec := newReceiver(t)
	rec.status = func(int) int { return http.StatusInternalServerError }
	s := NewServer()
	s.WebhookBackoff = time.Hour // Close must cut the wait short
	cfg := testTenant("acme")
	cfg.WebhookURL = rec.URL
	if err := s.AddTenant(cfg); err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := call(t, http.MethodGet, base+"/api/jobs", "", "Token", cfg.Token)
	if r.status != http.StatusOK {
		t.Fatalf("status %d", r.status)
	}
	serials, _ := s.Serials("acme", ListCandidates)
	s.MoveStage("acme", serials[len(serials)-1], "Do Not Pursue")
	time.Sleep(20 * time.Millisecond) // let the first post fail and the retry wait begin
	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := s.AddTenant(testTenant("late")); err == nil {
		t.Error("AddTenant after Close succeeded")
	}
	http.DefaultClient.CloseIdleConnections()
	rec.Close()
}
