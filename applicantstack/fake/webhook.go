package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// emitter delivers stage-change notifications: one goroutine per tenant,
// started on the tenant's first notification, posting in order (unless
// faults reorder them). The Server owns the goroutines: close cancels them
// and waits.
type emitter struct {
	s      *Server
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	queues   map[*tenant]*hookQueue
	pending  int // queued, held or being posted
	flushing int
	seq      uint64
	closed   bool
}

type hookQueue struct {
	items []hookItem
	wake  chan struct{}
}

type hookItem struct {
	url  string
	body []byte
	seq  uint64
}

func newEmitter(s *Server) *emitter {
	ctx, cancel := context.WithCancel(context.Background())
	return &emitter{s: s, ctx: ctx, cancel: cancel, queues: make(map[*tenant]*hookQueue)}
}

// enqueue queues a notification if the tenant has a webhook URL.
func (e *emitter) enqueue(t *tenant, body []byte) {
	if t.cfg.WebhookURL == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	q := e.queues[t]
	if q == nil {
		q = &hookQueue{wake: make(chan struct{}, 1)}
		e.queues[t] = q
		e.wg.Add(1)
		go e.run(t, q)
	}
	e.seq++
	e.pending++
	q.items = append(q.items, hookItem{url: t.cfg.WebhookURL, body: body, seq: e.seq})
	signal(q.wake)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (e *emitter) pop(q *hookQueue) (hookItem, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(q.items) == 0 {
		return hookItem{}, false
	}
	it := q.items[0]
	q.items = q.items[1:]
	return it, true
}

func (e *emitter) isFlushing() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.flushing > 0
}

// run delivers a tenant's notifications until the emitter closes. With
// WebhookOutOfOrder it holds each odd notification back and sends it after
// the next one, or after WebhookHold, or when FlushWebhooks asks.
func (e *emitter) run(t *tenant, q *hookQueue) {
	defer e.wg.Done()
	var held *hookItem
	var hold <-chan time.Time
	release := func() {
		if held != nil {
			e.deliver(t, *held)
			held, hold = nil, nil
		}
	}
	for {
		it, ok := e.pop(q)
		if !ok {
			if held != nil && e.isFlushing() {
				release()
				continue
			}
			select {
			case <-q.wake:
			case <-hold:
				release()
			case <-e.ctx.Done():
				return
			}
			continue
		}
		f := t.faults.get()
		switch {
		case f.WebhookOutOfOrder && held == nil:
			held = &it
			d := f.WebhookHold
			if d <= 0 {
				d = DefaultWebhookHold
			}
			hold = time.After(d)
		case f.WebhookOutOfOrder:
			e.deliver(t, it)
			release()
		default:
			release()
			e.deliver(t, it)
		}
	}
}

// deliver posts one notification (twice under WebhookDuplicateRate).
func (e *emitter) deliver(t *tenant, it hookItem) {
	defer func() {
		e.mu.Lock()
		e.pending--
		e.mu.Unlock()
	}()
	e.post(t, it.url, it.body)
	if t.faults.duplicateWebhook(it.seq) {
		e.post(t, it.url, it.body)
	}
}

// post sends body, retrying non-2xx answers and transport errors up to
// Server.WebhookRetries tries in all, with doubling backoff. It reports
// whether the receiver accepted the notification.
func (e *emitter) post(t *tenant, url string, body []byte) bool {
	tries := max(1, e.s.WebhookRetries)
	wait := e.s.WebhookBackoff
	for try := range tries {
		if try > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-e.ctx.Done():
				timer.Stop()
				t.stats.update(func(s *Stats) { s.WebhookFailed++ })
				return false
			}
			wait *= 2
		}
		t.stats.update(func(s *Stats) { s.WebhookAttempts++ })
		if e.postOnce(url, body) == nil {
			t.stats.update(func(s *Stats) { s.WebhookDelivered++ })
			return true
		}
	}
	t.stats.update(func(s *Stats) { s.WebhookFailed++ })
	return false
}

func (e *emitter) postOnce(url string, body []byte) error {
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ApplicantStack-Webhook (stackhouse fake)")
	resp, err := e.s.WebhookClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: status %d", resp.StatusCode)
	}
	return nil
}

// flush waits until every queued notification has been posted or given up,
// releasing notifications held for out-of-order delivery at once.
func (e *emitter) flush(ctx context.Context) error {
	e.mu.Lock()
	e.flushing++
	for _, q := range e.queues {
		signal(q.wake)
	}
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.flushing--
		e.mu.Unlock()
	}()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		e.mu.Lock()
		n := e.pending
		e.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fake: flush webhooks: %d pending: %w", n, ctx.Err())
		case <-e.ctx.Done():
			return ErrClosed
		case <-tick.C:
		}
	}
}

func (e *emitter) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
}

// FlushWebhooks waits until every queued stage-change notification has been
// delivered or given up (held out-of-order ones are released at once).
func (s *Server) FlushWebhooks(ctx context.Context) error { return s.hooks.flush(ctx) }

// BurstResult reports a WebhookBurst.
type BurstResult struct {
	Serials   []string // the candidates moved, in order
	Delivered int      // notifications the receiver accepted
	Failed    int      // notifications given up after the retries
}

// WebhookBurst moves up to n active candidates (newest first) one stage
// forward, like MoveStage, and posts their notifications directly, with
// concurrency posts at a time (1: one after another, in order). It returns
// when every post is done. Faults that reorder or duplicate queued
// notifications do not apply; retries do. It fails if the tenant has no
// webhook URL.
func (s *Server) WebhookBurst(ctx context.Context, subdomain string, n, concurrency int) (BurstResult, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		return BurstResult{}, err
	}
	if t.cfg.WebhookURL == "" {
		return BurstResult{}, fmt.Errorf("fake: webhook burst for %s: no webhook URL", subdomain)
	}
	var res BurstResult
	var bodies [][]byte
	now := s.Now().Unix()
	t.mu.Lock()
	for rank := t.liveCandidates() - 1; rank >= 0 && len(bodies) < n; rank-- {
		idx := t.candidateAt(rank)
		c := t.makeCandidate(idx)
		next := nextStage(t.active, c.stage)
		if c.stageType != "" || next == "" {
			continue
		}
		serial := t.candSer.format(idx)
		body, err := t.move(serial, next, event{}, now)
		if err != nil {
			t.mu.Unlock()
			return res, err
		}
		res.Serials = append(res.Serials, serial)
		bodies = append(bodies, body)
	}
	t.mu.Unlock()

	e := s.hooks
	workers := max(1, concurrency)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return res, ErrClosed
	}
	e.wg.Add(workers) // Close waits for the burst too
	e.mu.Unlock()
	work := make(chan []byte)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer e.wg.Done()
			for body := range work {
				ok := e.post(t, t.cfg.WebhookURL, body)
				mu.Lock()
				if ok {
					res.Delivered++
				} else {
					res.Failed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range bodies {
		select {
		case work <- b:
		case <-ctx.Done():
			close(work)
			wg.Wait()
			return res, ctx.Err()
		}
	}
	close(work)
	wg.Wait()
	return res, nil
}

// nextStage returns the stage after stage in the active pipeline, Hired
// after the last one, or "" for a stage not in it.
func nextStage(active []string, stage string) string {
	for i, s := range active {
		if s == stage {
			if i+1 < len(active) {
				return active[i+1]
			}
			return stageHired
		}
	}
	return ""
}
