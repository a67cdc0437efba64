package daemon

import (
	"log/slog"
	"slices"
	stdsync "sync"
	"time"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
)

// account is the daemon's state for one account. Its scheduled runs and its
// webhook refreshes back off separately: a failing refresh (one candidate
// the API keeps failing on) does not postpone the schedule, and a failing
// schedule does not stop webhooks from being applied.
type account struct {
	cfg    *sync.AccountConfig
	name   string
	mapper schema.Mapper // maps the account's webhooks
	plan   *plan         // nil: nothing scheduled
	log    *slog.Logger
	// slot holds the one run the account may have: a scheduled pass or a
	// webhook refresh (see Daemon for why it exists beside the Syncer's
	// own guard).
	slot chan struct{}

	sched retry // scheduled runs
	hook  retry // webhook refreshes
	queue refreshQueue
}

func newAccount(a *sync.AccountConfig, cfg *sync.Config, p *plan, log *slog.Logger, now func() time.Time) *account {
	return &account{
		cfg: a, name: a.Subdomain, plan: p,
		mapper: schema.Mapper{Account: a.Subdomain, Location: a.Location(), Funnel: cfg.FunnelRules(a), Now: now},
		log:    log.With(slog.String(keyAccount, a.Subdomain)),
		slot:   make(chan struct{}, 1),
		queue:  refreshQueue{ids: make(map[string][]string)},
	}
}

// acquire waits for the account's run slot; it returns false if stop
// closes first.
func (a *account) acquire(stop <-chan struct{}) bool {
	select {
	case a.slot <- struct{}{}:
		return true
	case <-stop:
		return false
	}
}

// tryAcquire takes the run slot if it is free.
func (a *account) tryAcquire() bool {
	select {
	case a.slot <- struct{}{}:
		return true
	default:
		return false
	}
}

func (a *account) release() { <-a.slot }

// retry is the backoff state of one kind of run of one account: the
// consecutive failures and the time before which no new attempt starts.
// It is safe for concurrent use.
type retry struct {
	mu       stdsync.Mutex
	failures int
	until    time.Time
}

// wait returns how long an attempt still has to wait at now.
func (r *retry) wait(now time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.until.Sub(now)
}

// fail records a failure and returns the failure count and the wait before
// the next attempt: first, doubled after each further failure, at most
// limit.
func (r *retry) fail(now time.Time, first, limit time.Duration) (int, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures++
	wait := backoff(r.failures, first, limit)
	r.until = now.Add(wait)
	return r.failures, wait
}

// succeed clears the failures and reports whether there were any.
func (r *retry) succeed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	had := r.failures > 0
	r.failures, r.until = 0, time.Time{}
	return had
}

// count returns the consecutive failures.
func (r *retry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

// backoff is the wait after the given number of consecutive failures:
// first, doubled after each further failure, at most limit.
func backoff(failures int, first, limit time.Duration) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := first
	for i := 1; i < failures && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// refreshQueue holds an account's candidates waiting for a webhook
// refresh, each with the ids of the events naming it, and the size of the
// next refresh (smaller after a failure). It is safe for concurrent use.
type refreshQueue struct {
	mu    stdsync.Mutex
	ids   map[string][]string // candidate serial → event ids
	batch int                 // candidates in the next refresh; 0: the daemon's RefreshBatch
}

// add queues a candidate's detail refresh for the event id.
func (q *refreshQueue) add(serial, id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if ids := q.ids[serial]; !slices.Contains(ids, id) {
		q.ids[serial] = append(ids, id)
	}
}

// len returns the number of candidates queued.
func (q *refreshQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ids)
}

// take removes up to the next batch size of queued candidates (def when no
// smaller size is set), in serial order, and returns them with their event
// ids.
func (q *refreshQueue) take(def int) map[string][]string {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := def
	if q.batch > 0 {
		n = q.batch
	}
	serials := make([]string, 0, len(q.ids))
	for s := range q.ids {
		serials = append(serials, s)
	}
	slices.Sort(serials)
	batch := make(map[string][]string, min(n, len(serials)))
	for _, s := range serials[:min(n, len(serials))] {
		batch[s] = q.ids[s]
		delete(q.ids, s)
	}
	return batch
}

// putBack queues again candidates whose refresh did not happen.
func (q *refreshQueue) putBack(batch map[string][]string) {
	for s, ids := range batch {
		for _, id := range ids {
			q.add(s, id)
		}
	}
}

// setBatch sets the size of the next refresh; 0 restores the default.
func (q *refreshQueue) setBatch(n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batch = n
}

// dropCovered unqueues the event ids in covered, and candidates left with
// none: a complete scan has read them since.
func (q *refreshQueue) dropCovered(covered map[string]bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for s, ids := range q.ids {
		ids = slices.DeleteFunc(ids, func(id string) bool { return covered[id] })
		if len(ids) == 0 {
			delete(q.ids, s)
		} else {
			q.ids[s] = ids
		}
	}
}
