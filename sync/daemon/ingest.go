package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// ingestTimeout bounds one group commit of webhooks.
const ingestTimeout = 30 * time.Second

// errStopping answers webhooks that arrive while the daemon shuts down.
var errStopping = errors.New("shutting down")

// ingester commits webhooks in groups: whatever requests are waiting when
// it is free go into one transaction (webhook_events and stage_events
// together). Under a burst this turns thousands of commits into a few
// hundred, and a handler waits for at most one commit before its own.
//
// run is its goroutine; close stops it after it has answered every request
// it took, and store refuses with errStopping from then on.
type ingester struct {
	db    *warehouse.DB
	batch int // requests in one commit at most
	reqs  chan ingestReq
	quit  chan struct{}
	done  chan struct{}
}

// ingestReq is one webhook for the ingester; done receives its result.
type ingestReq struct {
	event schema.WebhookEvent
	stage *schema.StageEvent
	done  chan ingestResult
}

type ingestResult struct {
	inserted bool
	err      error
}

func newIngester(db *warehouse.DB, batch int) *ingester {
	return &ingester{db: db, batch: batch, reqs: make(chan ingestReq), quit: make(chan struct{}), done: make(chan struct{})}
}

// store hands an event to the ingester and waits until it is committed. It
// reports whether the event was new (false for a redelivery).
func (in *ingester) store(e schema.WebhookEvent, stage *schema.StageEvent) (bool, error) {
	req := ingestReq{event: e, stage: stage, done: make(chan ingestResult, 1)}
	select {
	case in.reqs <- req:
	case <-in.done:
		return false, errStopping
	}
	res := <-req.done // the ingester answers every request it takes
	return res.inserted, res.err
}

// run commits groups of requests until close.
func (in *ingester) run() {
	defer close(in.done)
	for {
		var group []ingestReq
		select {
		case r := <-in.reqs:
			group = append(group, r)
		case <-in.quit:
			return
		}
	gather:
		for len(group) < in.batch {
			select {
			case r := <-in.reqs:
				group = append(group, r)
			default:
				break gather
			}
		}
		in.commit(group)
	}
}

// close stops run and waits for it.
func (in *ingester) close() {
	close(in.quit)
	<-in.done
}

// commit stores a group in one transaction. When that fails, it stores the
// group's events one at a time, so that an event that cannot be stored
// fails alone and its neighbours are stored anyway (unless the group ran
// out of time: the warehouse is too slow, and 1,000 more commits would
// only make the senders wait longer for their 503).
func (in *ingester) commit(group []ingestReq) {
	inserted, err := in.insert(group)
	if err != nil && len(group) > 1 && !errors.Is(err, context.DeadlineExceeded) {
		for _, r := range group {
			in.commit([]ingestReq{r})
		}
		return
	}
	for i, r := range group {
		res := ingestResult{err: err}
		if err == nil {
			res.inserted = inserted[i]
		}
		r.done <- res
	}
}

// insert stores the group's events and stage events in one transaction.
func (in *ingester) insert(group []ingestReq) ([]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ingestTimeout)
	defer cancel()
	events := make([]schema.WebhookEvent, len(group))
	var stages []schema.StageEvent
	for i, r := range group {
		events[i] = r.event
		// Stage events are written for duplicates too: their key makes it
		// a no-op unless an earlier delivery was stored without them.
		if r.stage != nil {
			stages = append(stages, *r.stage)
		}
	}
	return in.db.InsertWebhookEvents(ctx, events, stages)
}
