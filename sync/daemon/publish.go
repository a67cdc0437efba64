package daemon

import (
	"context"
	"log/slog"
	"slices"
	stdsync "sync"
	"time"

	"github.com/stackhouse/stackhouse/warehouse"
)

// DefaultPublishDelay is how long after a webhook's change the daemon
// publishes: changes arriving meanwhile join the same publish, so a burst
// costs one.
const DefaultPublishDelay = 5 * time.Second

// publisher collects what to publish outside the scheduled runs (which
// publish themselves): the accounts webhooks changed, and whether the
// read-only copy was kept stale by warehouse.copy_interval.
type publisher struct {
	mu    stdsync.Mutex
	dirty map[string]bool
	due   time.Time // when a copy kept stale may be replaced; zero: none
	wake  chan struct{}
}

func newPublisher() *publisher {
	return &publisher{dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// mark records that account's warehouse rows changed.
func (p *publisher) mark(account string) {
	p.mu.Lock()
	p.dirty[account] = true
	p.mu.Unlock()
	signal(p.wake)
}

// published notes a publish's outcome: a copy it kept stale is replaced
// when the warehouse says the interval ends.
func (p *publisher) published(st warehouse.PublishStats) {
	if !st.CopyStale {
		return
	}
	p.mu.Lock()
	p.due = st.CopyDue
	p.mu.Unlock()
	signal(p.wake)
}

// peek reports whether accounts changed and when a stale copy is due.
func (p *publisher) peek() (dirty bool, due time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.dirty) > 0, p.due
}

// take returns the changed accounts and whether a copy was stale, and
// forgets both.
func (p *publisher) take() (accounts []string, stale bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for a := range p.dirty {
		accounts = append(accounts, a)
	}
	clear(p.dirty)
	stale, p.due = !p.due.IsZero(), time.Time{}
	slices.Sort(accounts)
	return accounts, stale
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// publishLoop publishes what happens between scheduled runs: PublishDelay
// after a webhook's change, the accounts changed by then, in one publish;
// and, when a publish kept the read-only copy because it is younger than
// warehouse.copy_interval, the copy once the interval has passed, so it
// never waits for the next scheduled run. At shutdown it publishes what is
// pending. A failed publish is retried after PublishDelay, doubling up to a
// minute.
func (d *Daemon) publishLoop() {
	defer d.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var dueAt time.Time // zero: nothing armed
	arm := func(after time.Duration) {
		if at := time.Now().Add(after); dueAt.IsZero() || at.Before(dueAt) {
			dueAt = at
			timer.Reset(after)
		}
	}
	var retryAccounts []string
	retry := d.PublishDelay
	for {
		select {
		case <-d.stopCtx.Done():
			accounts, stale := d.pub.take()
			if accounts = append(retryAccounts, accounts...); len(accounts) > 0 || stale {
				d.publishNow(d.runCtx, accounts)
			}
			return
		case <-d.pub.wake:
			switch dirty, due := d.pub.peek(); {
			case dirty:
				arm(d.PublishDelay)
			case !due.IsZero():
				arm(max(time.Until(due), 0) + 100*time.Millisecond)
			}
			continue
		case <-timer.C:
		}
		dueAt = time.Time{}
		accounts, _ := d.pub.take()
		accounts = append(accounts, retryAccounts...)
		slices.Sort(accounts)
		accounts, retryAccounts = slices.Compact(accounts), nil
		if err := d.publishNow(d.runCtx, accounts); err != nil {
			retryAccounts = accounts
			retry = min(2*retry, time.Minute)
			arm(retry)
			continue
		}
		retry = d.PublishDelay
	}
}

// publishNow publishes the accounts' Parquet partitions (none: only the
// read-only copy) through the syncer, whose OnPublished reports a copy kept
// stale back to the publisher.
func (d *Daemon) publishNow(ctx context.Context, accounts []string) error {
	if accounts == nil {
		accounts = []string{}
	}
	_, err := d.Syncer.PublishAccounts(ctx, accounts)
	if err != nil && ctx.Err() == nil && d.limiter.allow("/publish", d.Now()) {
		d.Logger.Warn("publish between runs failed; retrying", slog.Any("accounts", accounts), slog.String(keyError, err.Error()))
	}
	return err
}
