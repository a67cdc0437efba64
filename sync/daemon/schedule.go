package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	stdsync "sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/stackhouse/stackhouse/sync"
)

// job is an account's cron job: it runs the strongest mode due.
func (d *Daemon) job(acc *account) func() {
	return func() {
		if d.stopCtx.Err() != nil {
			return
		}
		mode := acc.plan.take(d.Now())
		if mode == "" {
			return
		}
		if wait := acc.sched.wait(d.Now()); wait > 0 {
			acc.plan.owe(mode)
			d.metrics.skipped.WithLabelValues(acc.name, skipBackoff).Inc()
			if d.limiter.allow(acc.name+"/backoff", d.Now()) {
				acc.log.Info("run postponed: the account is backing off after failed runs",
					slog.String(keyMode, mode), slog.Duration("retry_in", wait.Round(time.Second)))
			}
			return
		}
		if j := d.Config.Schedule.Jitter; j > 0 {
			select {
			case <-time.After(rand.N(j)):
			case <-d.stopCtx.Done():
				return
			}
		}
		if !acc.acquire(d.stopCtx.Done()) {
			return
		}
		defer acc.release()
		d.runScheduled(acc, mode)
	}
}

// runScheduled runs mode for the account, which it holds, and records the
// outcome: metrics, backoff, and the webhook events the run covered.
func (d *Daemon) runScheduled(acc *account, mode string) {
	start := time.Now()
	returned := false
	defer func() {
		if !returned {
			// RunAccount panicked. cron.Recover logs the panic and its
			// stack once this returns; later runs go on.
			d.metrics.runs.WithLabelValues(acc.name, mode, resultPanic).Inc()
			acc.plan.owe(mode)
			n, wait := d.backOff(acc)
			acc.log.Error("scheduled run panicked; the account backs off", slog.String(keyMode, mode),
				slog.Int("failures", n), slog.Duration("retry_in", wait))
		}
	}()
	run, err := d.RunAccount(d.runCtx, acc.cfg, mode)
	returned = true
	took := time.Since(start)
	switch {
	case errors.Is(err, sync.ErrBusy):
		acc.plan.owe(mode)
		d.metrics.skipped.WithLabelValues(acc.name, skipBusy).Inc()
		acc.log.Info("run skipped: the account has another run in progress; it runs at the next tick", slog.String(keyMode, mode))
		return
	case err == nil:
		d.metrics.observeRun(acc.name, mode, resultSucceeded, run, took)
		finished := run.FinishedAt
		if finished.IsZero() {
			finished = d.Now()
		}
		d.metrics.lastSuccess.WithLabelValues(acc.name).Set(float64(finished.Unix()))
		if acc.sched.succeed() {
			acc.log.Info("account recovered", slog.String(keyMode, mode))
		}
		if mode == sync.ModeSync || mode == sync.ModeFull {
			if err := d.markCovered(acc, run.StartedAt); err != nil {
				acc.log.Warn("webhook events not marked applied", slog.String(keyError, err.Error()))
			}
		}
	case d.runCtx.Err() != nil:
		d.metrics.observeRun(acc.name, mode, resultInterrupted, run, took)
		acc.plan.owe(mode)
		return
	default:
		// The Syncer has logged the error; say what happens next.
		d.metrics.observeRun(acc.name, mode, resultFailed, run, took)
		acc.plan.owe(mode)
		n, wait := d.backOff(acc)
		acc.log.Warn("run failed; the account backs off", slog.String(keyMode, mode),
			slog.Int("failures", n), slog.Duration("retry_in", wait))
	}
	if err := d.requeuePending(d.runCtx, acc); err != nil && d.runCtx.Err() == nil {
		acc.log.Warn("pending webhooks not requeued", slog.String(keyError, err.Error()))
	}
}

// backOff records a failed scheduled run of the account and returns the
// failure count and the wait before its next one.
func (d *Daemon) backOff(acc *account) (int, time.Duration) {
	return acc.sched.fail(d.Now(), d.FailureBackoff, max(d.MaxBackoff, d.FailureBackoff))
}

// plan merges an account's tail, sync and full schedules into one
// cron.Schedule and decides, when it fires, which mode runs. Every kind
// whose time has come is owed until a run of it or of a stronger kind
// (full covers sync, sync covers tail) takes it, so a firing skipped while
// the account was busy is made up at the next one. Next is called by cron's
// goroutine, take by the job's: both collect what is due under the mutex.
type plan struct {
	kinds []planKind // strongest first
	mu    stdsync.Mutex
	due   []time.Time
	owed  []bool
}

type planKind struct {
	mode  string
	sched cron.Schedule
}

// newPlan parses the schedule; kinds with an empty expression are left
// out, and a schedule with none gives nil.
func newPlan(s sync.ScheduleConfig) (*plan, error) {
	p := &plan{}
	for _, k := range []struct{ mode, name, expr string }{
		{sync.ModeFull, "full", s.Full}, {sync.ModeSync, "sync", s.Sync}, {sync.ModeTail, "tail", s.Tail},
	} {
		if k.expr == "" {
			continue
		}
		sched, err := cron.ParseStandard(k.expr)
		if err != nil {
			return nil, fmt.Errorf("schedule.%s: %q: %w", k.name, k.expr, err)
		}
		p.kinds = append(p.kinds, planKind{k.mode, sched})
	}
	if len(p.kinds) == 0 {
		return nil, nil
	}
	p.due = make([]time.Time, len(p.kinds))
	p.owed = make([]bool, len(p.kinds))
	return p, nil
}

// Next implements cron.Schedule: the earliest time any kind comes due.
func (p *plan) Next(t time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.collect(t)
	var next time.Time
	for _, due := range p.due {
		if !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next
}

// collect marks the kinds due at now as owed and moves them to their next
// time. A zero due time is computed first.
func (p *plan) collect(now time.Time) {
	for i, k := range p.kinds {
		switch {
		case p.due[i].IsZero():
			p.due[i] = k.sched.Next(now)
		case !p.due[i].After(now):
			p.owed[i] = true
			p.due[i] = k.sched.Next(now)
		}
	}
}

// take returns the strongest mode owed at now and clears every owed kind
// (the strongest covers the others), or "" when nothing is owed.
func (p *plan) take(now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.collect(now)
	mode := ""
	for i, owed := range p.owed {
		if owed && mode == "" {
			mode = p.kinds[i].mode
		}
		p.owed[i] = false
	}
	return mode
}

// owe marks mode owed again: its run did not happen or did not succeed.
func (p *plan) owe(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, k := range p.kinds {
		if k.mode == mode {
			p.owed[i] = true
		}
	}
}

// cronLogger passes cron's messages to slog: its routine chatter at debug,
// skips at info, recovered panics at error. Once closed it drops them:
// cron's loop logs its "stop" after Stop has returned, and nothing may be
// logged after Daemon.Run returns.
type cronLogger struct {
	l      *slog.Logger
	mu     stdsync.Mutex
	closed bool
}

// close drops every later message, once a message being logged is done.
func (c *cronLogger) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

func (c *cronLogger) Info(msg string, kv ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if msg == "skip" {
		c.l.Info("cron firing skipped: the account's previous run is still going; what came due runs at the next firing")
		return
	}
	c.l.Debug("cron "+msg, kv...)
}

func (c *cronLogger) Error(err error, msg string, kv ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if msg == "panic" {
		msg = "scheduled run panicked"
	}
	c.l.Error(msg, append([]any{slog.String(keyError, err.Error())}, kv...)...)
}
