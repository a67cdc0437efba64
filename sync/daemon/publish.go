package daemon

import (
	"context"
	"log/slog"
	"os"
	"slices"
	stdsync "sync"
	"time"
)

// DefaultPublishDelay is how long after a webhook's change the daemon
// publishes: changes arriving meanwhile join the same publish, so a burst
// costs one.
const DefaultPublishDelay = 5 * time.Second

// publisher collects the accounts webhooks changed since the last publish.
type publisher struct {
	mu    stdsync.Mutex
	dirty map[string]bool
	wake  chan struct{}
}

func newPublisher() *publisher {
	return &publisher{dirty: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// mark records that account's warehouse rows changed outside a scheduled
// run (which publishes itself).
func (p *publisher) mark(account string) {
	p.mu.Lock()
	p.dirty[account] = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take returns the changed accounts and forgets them.
func (p *publisher) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	accounts := make([]string, 0, len(p.dirty))
	for a := range p.dirty {
		accounts = append(accounts, a)
	}
	clear(p.dirty)
	slices.Sort(accounts)
	return accounts
}

// publishLoop publishes what webhooks changed: PublishDelay after the first
// change, the accounts changed by then in one publish. When the read-only
// copy was kept because it is younger than warehouse.copy_interval, it
// publishes again when the interval has passed, so the copy catches up
// without waiting for a scheduled run. At shutdown it publishes what is
// still pending. A failed publish is retried at the next change or after
// PublishDelay doubled, up to a minute.
func (d *Daemon) publishLoop() {
	defer d.wg.Done()
	var due <-chan time.Time
	var pending []string
	retry := d.PublishDelay
	arm := func(after time.Duration) {
		if due == nil {
			due = time.After(after)
		}
	}
	for {
		select {
		case <-d.stopCtx.Done():
			if accounts := append(pending, d.pub.take()...); len(accounts) > 0 {
				d.publishWebhooks(d.runCtx, accounts)
			}
			return
		case <-d.pub.wake:
			arm(d.PublishDelay)
			continue
		case <-due:
		}
		due = nil
		accounts := append(pending, d.pub.take()...)
		slices.Sort(accounts)
		accounts = slices.Compact(accounts)
		pending = nil
		stale, err := d.publishWebhooks(d.runCtx, accounts)
		switch {
		case err != nil:
			pending = accounts
			retry = min(2*retry, time.Minute)
			arm(retry)
		case stale:
			retry = d.PublishDelay
			arm(d.copyDue())
		default:
			retry = d.PublishDelay
		}
	}
}

// publishWebhooks publishes the accounts and reports whether the read-only
// copy was kept for warehouse.copy_interval.
func (d *Daemon) publishWebhooks(ctx context.Context, accounts []string) (stale bool, err error) {
	st, err := d.Syncer.PublishAccounts(ctx, accounts)
	if err != nil {
		if ctx.Err() == nil && d.limiter.allow("/publish", d.Now()) {
			d.Logger.Warn("publishing webhook changes failed; retrying", slog.Any("accounts", accounts), slog.String(keyError, err.Error()))
		}
		return false, err
	}
	return st.CopyStale, nil
}

// copyDue is the wait until the read-only copy may be replaced again.
func (d *Daemon) copyDue() time.Duration {
	wait := d.PublishDelay
	if info, err := os.Stat(d.Config.Warehouse.PublishedPath); err == nil {
		wait = max(time.Until(info.ModTime().Add(d.Syncer.CopyInterval))+100*time.Millisecond, wait)
	}
	return wait
}
