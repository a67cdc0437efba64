package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
)

// refresher drains the account's queued webhook refreshes every
// RefreshInterval until shutdown starts.
func (d *Daemon) refresher(acc *account) {
	defer d.wg.Done()
	t := time.NewTicker(d.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stopCtx.Done():
			return
		case <-t.C:
		}
		d.refreshQueued(acc)
	}
}

// refreshQueued refreshes the detail of queued candidates in one run (mode
// webhook) and marks their events applied. While the account has another
// run, or after a failure until its backoff passes, they stay queued. A
// failed refresh is retried with half as many candidates, so that one
// candidate the API keeps failing on cannot hold up the others; alone, it
// is left to the next scheduled pass (its event stays pending until then).
func (d *Daemon) refreshQueued(acc *account) {
	if acc.queue.len() == 0 || acc.hook.wait(d.Now()) > 0 || !acc.tryAcquire() {
		return
	}
	defer acc.release()
	batch := acc.queue.take(d.RefreshBatch)
	serials := make([]string, 0, len(batch))
	var ids []string
	for s, evs := range batch {
		serials = append(serials, s)
		ids = append(ids, evs...)
	}
	slices.Sort(serials)
	start := time.Now()
	run, err := d.Syncer.Refresh(d.runCtx, acc.cfg, serials)
	took := time.Since(start)
	switch {
	case err == nil:
		d.metrics.observeRun(acc.name, sync.ModeWebhook, resultSucceeded, run, took)
		if err := d.DB.MarkWebhookApplied(d.runCtx, acc.name, ids, d.Now()); err != nil {
			acc.log.Warn("webhook events not marked applied; they are refreshed again later", slog.String(keyError, err.Error()))
		}
		acc.hook.succeed()
		acc.queue.setBatch(0)
		d.pub.mark(acc.name)
		acc.log.Debug("webhook refresh", slog.Int("candidates", len(serials)), slog.Int("events", len(ids)),
			slog.Duration("took", took.Round(time.Millisecond)))
	case errors.Is(err, sync.ErrBusy):
		acc.queue.putBack(batch)
		d.metrics.skipped.WithLabelValues(acc.name, skipBusy).Inc()
	case d.runCtx.Err() != nil:
		acc.queue.putBack(batch) // still pending in the warehouse: the next start refreshes them
		d.metrics.observeRun(acc.name, sync.ModeWebhook, resultInterrupted, run, took)
	default:
		d.metrics.observeRun(acc.name, sync.ModeWebhook, resultFailed, run, took)
		if len(serials) > 1 {
			acc.queue.putBack(batch)
		}
		acc.queue.setBatch(max(len(serials)/2, 1))
		_, wait := acc.hook.fail(d.Now(), d.RefreshInterval, min(d.MaxBackoff, time.Minute))
		msg, key := "webhook refresh failed; retrying with fewer candidates", "/refresh"
		if len(serials) == 1 {
			msg, key = "webhook refresh of a candidate failed; left to the next scheduled pass", "/refresh-one"
		}
		if d.limiter.allow(acc.name+key, d.Now()) {
			acc.log.Warn(msg, slog.Int("candidates", len(serials)), slog.Duration("retry_in", wait),
				slog.String(keyError, err.Error()))
		}
	}
	d.metrics.pending.WithLabelValues(acc.name).Set(float64(acc.queue.len()))
}

// requeuePending makes sure every stored event not yet applied has its
// stage_events row and, for candidates, a queued refresh: after a restart,
// and after each scheduled run (the tail pass picks up what a failed
// refresh left). An event whose stored payload cannot be read still gets
// its refresh (which reads the candidate's notes); the error names it.
func (d *Daemon) requeuePending(ctx context.Context, acc *account) error {
	events, err := d.DB.PendingWebhookEvents(ctx, acc.name)
	if err != nil {
		return err
	}
	var stages []schema.StageEvent
	var errs []error
	for _, e := range events {
		if e.ObjectType != applicantstack.ObjectCandidate || e.ObjectID == "" {
			continue // hire events are applied by the next sync (see markCovered)
		}
		se, err := acc.mapper.WebhookStageEvent(e)
		switch {
		case err != nil:
			errs = append(errs, err)
		case se != nil:
			stages = append(stages, *se)
		}
		acc.queue.add(e.ObjectID, e.EventID)
	}
	d.metrics.pending.WithLabelValues(acc.name).Set(float64(acc.queue.len()))
	if len(stages) > 0 {
		if err := d.DB.Write(ctx, &warehouse.Batch{Account: acc.name, At: d.Now().UTC(), StageEvents: stages}); err != nil {
			errs = append(errs, fmt.Errorf("stage events: %w", err))
		} else {
			d.pub.mark(acc.name)
		}
	}
	return errors.Join(errs...)
}

// markCovered marks applied the account's pending events received before
// a complete scan started (a sync or full run read every list row since,
// and fetched the detail of the changed ones), hire events included, and
// unqueues their refreshes.
func (d *Daemon) markCovered(acc *account, scanStarted time.Time) error {
	events, err := d.DB.PendingWebhookEvents(d.runCtx, acc.name)
	if err != nil {
		return err
	}
	covered := make(map[string]bool)
	var ids []string
	for _, e := range events {
		if e.ReceivedAt.Before(scanStarted) {
			covered[e.EventID] = true
			ids = append(ids, e.EventID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	acc.queue.dropCovered(covered)
	return d.DB.MarkWebhookApplied(d.runCtx, acc.name, ids, d.Now())
}
