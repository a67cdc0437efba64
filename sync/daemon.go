package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// Defaults for a Daemon's fields.
const (
	DefaultRefreshInterval = time.Second
	DefaultRefreshBatch    = 200
	DefaultFailureBackoff  = time.Minute
	DefaultMaxBackoff      = time.Hour
	DefaultMaxWebhookBytes = 1 << 20
	DefaultIngestBatch     = 1000
)

// Daemon is `stackhouse serve`: it runs each account's tail, sync and full
// passes on the configured cron schedules, receives ApplicantStack
// stage-change webhooks, refreshes the candidates they name, and serves
// /healthz, /readyz and /metrics.
//
// Scheduling: each account has one cron entry whose schedule merges the
// three kinds; when it fires, the strongest kind due runs (full covers sync,
// sync covers tail), and a kind that comes due while the account is busy is
// run at the entry's next firing instead of being lost. Runs of one account
// never overlap: the cron chain skips a firing while the previous one runs,
// scheduled runs and webhook refreshes share one slot per account, and the
// Syncer refuses a second run with ErrBusy. A failing account backs off
// exponentially (FailureBackoff doubling up to MaxBackoff) without holding
// up the others; a panic is recovered and counted.
//
// Set the exported fields after NewDaemon and before Run. Run owns every
// goroutine it starts and ends them all before it returns. The Daemon does
// not close the warehouse.
type Daemon struct {
	Config *Config
	DB     *warehouse.DB
	Syncer *Syncer
	Logger *slog.Logger
	// Accounts are the accounts scheduled and accepting webhooks here:
	// every configured account by default (serve -shard narrows them).
	Accounts []*AccountConfig
	// Listen is the HTTP address (Config.Server.Listen by default).
	// Listener, when set, is served instead; Run closes it.
	Listen   string
	Listener net.Listener
	// ShutdownTimeout bounds how long Run waits, once its context ends,
	// for running syncs to finish before it cancels them (they resume from
	// their checkpoint). Config.Server.ShutdownTimeout by default.
	ShutdownTimeout time.Duration
	// RefreshInterval is how often queued webhook refreshes are drained;
	// RefreshBatch caps the candidates of one refresh run.
	RefreshInterval time.Duration
	RefreshBatch    int
	// FailureBackoff is the wait after an account's first failed run,
	// doubled after each further failure up to MaxBackoff.
	FailureBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxWebhookBytes is the largest webhook body accepted (413 above).
	MaxWebhookBytes int64
	// IngestBatch caps the webhooks stored in one transaction.
	IngestBatch int
	// Registry receives the daemon's metrics, served on /metrics. NewDaemon
	// makes a new one; the global registry is never used.
	Registry *prometheus.Registry
	Now      func() time.Time
	// RunAccount runs one scheduled pass of an account (Syncer.Run by
	// default). It is a test seam: wrap it to inject failures or panics.
	RunAccount func(ctx context.Context, a *AccountConfig, mode string) (schema.Run, error)

	accounts   map[string]*account
	metrics    *metrics
	limiter    *logLimiter
	stopCtx    context.Context // ends when shutdown starts
	runCtx     context.Context // ends when the shutdown timeout expires
	ingest     chan ingestReq
	ingestDone chan struct{}
	wg         stdsync.WaitGroup // refreshers
	ready      atomic.Bool
	addr       atomic.Value // string
}

// NewDaemon returns a daemon for the accounts of cfg, writing to db through
// syncer, with every field at its default.
func NewDaemon(cfg *Config, db *warehouse.DB, syncer *Syncer) *Daemon {
	d := &Daemon{
		Config:          cfg,
		DB:              db,
		Syncer:          syncer,
		Logger:          slog.New(slog.DiscardHandler),
		Listen:          cfg.Server.Listen,
		ShutdownTimeout: cfg.Server.ShutdownTimeout,
		RefreshInterval: DefaultRefreshInterval,
		RefreshBatch:    DefaultRefreshBatch,
		FailureBackoff:  DefaultFailureBackoff,
		MaxBackoff:      DefaultMaxBackoff,
		MaxWebhookBytes: DefaultMaxWebhookBytes,
		IngestBatch:     DefaultIngestBatch,
		Registry:        prometheus.NewRegistry(),
		Now:             time.Now,
	}
	for i := range cfg.Accounts {
		d.Accounts = append(d.Accounts, &cfg.Accounts[i])
	}
	if syncer != nil {
		d.RunAccount = syncer.Run
	}
	return d
}

// Addr returns the address the HTTP server listens on once Run has
// started it, or "".
func (d *Daemon) Addr() string {
	s, _ := d.addr.Load().(string)
	return s
}

// account is the daemon's state for one account.
type account struct {
	cfg    *AccountConfig
	name   string
	funnel schema.FunnelRules
	plan   *plan // nil: nothing scheduled
	log    *slog.Logger
	// slot holds the one run the account may have: a scheduled pass or a
	// webhook refresh.
	slot chan struct{}

	mu           stdsync.Mutex
	failures     int
	retryAt      time.Time
	hookFailures int
	hookRetryAt  time.Time
	hookBatch    int                 // candidates in the next refresh after a failure; 0: RefreshBatch
	queue        map[string][]string // candidate serial → ids of the events naming it
}

func (a *account) acquire(stop <-chan struct{}) bool {
	select {
	case a.slot <- struct{}{}:
		return true
	case <-stop:
		return false
	}
}

func (a *account) tryAcquire() bool {
	select {
	case a.slot <- struct{}{}:
		return true
	default:
		return false
	}
}

func (a *account) release() { <-a.slot }

// init checks the fields, fills zero ones and builds the per-account state.
func (d *Daemon) init() error {
	if d.Config == nil || d.DB == nil || d.Syncer == nil {
		return errors.New("daemon: Config, DB and Syncer are required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.RunAccount == nil {
		d.RunAccount = d.Syncer.Run
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.ShutdownTimeout <= 0 {
		d.ShutdownTimeout = 30 * time.Second
	}
	d.RefreshInterval = orDefault(d.RefreshInterval, DefaultRefreshInterval)
	d.FailureBackoff = orDefault(d.FailureBackoff, DefaultFailureBackoff)
	d.MaxBackoff = max(orDefault(d.MaxBackoff, DefaultMaxBackoff), d.FailureBackoff)
	d.MaxWebhookBytes = orDefault(d.MaxWebhookBytes, DefaultMaxWebhookBytes)
	d.RefreshBatch = orDefault(d.RefreshBatch, DefaultRefreshBatch)
	d.IngestBatch = orDefault(d.IngestBatch, DefaultIngestBatch)
	d.accounts = make(map[string]*account, len(d.Accounts))
	for _, a := range d.Accounts {
		p, err := newPlan(d.Config.Schedule)
		if err != nil {
			return err
		}
		d.accounts[a.Subdomain] = &account{
			cfg: a, name: a.Subdomain, funnel: d.Config.FunnelRules(a), plan: p,
			log:  d.Logger.With(slog.String(keyAccount, a.Subdomain)),
			slot: make(chan struct{}, 1), queue: make(map[string][]string),
		}
	}
	d.limiter = &logLimiter{every: time.Minute, last: make(map[string]time.Time)}
	m, err := newMetrics(d.Registry, d)
	if err != nil {
		return fmt.Errorf("daemon metrics: %w", err)
	}
	d.metrics = m
	d.ingest = make(chan ingestReq)
	d.ingestDone = make(chan struct{})
	return nil
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Run serves and schedules until ctx ends, then shuts down: it stops
// scheduling and accepting webhooks at once, lets running syncs finish for
// up to ShutdownTimeout, cancels them when it expires (an interrupted run
// resumes from its checkpoint on the next start), and waits for every
// goroutine it started. It returns nil after a shutdown asked for by ctx,
// or the error that stopped the HTTP server. Run may be called once.
func (d *Daemon) Run(ctx context.Context) error {
	if err := d.init(); err != nil {
		if d.Listener != nil {
			d.Listener.Close()
		}
		return err
	}
	if err := d.metrics.loadLastSuccess(ctx, d); err != nil {
		d.Logger.Warn("metrics not initialized from earlier runs", slog.String(keyError, err.Error()))
	}
	ln := d.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", d.Listen); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	d.addr.Store(ln.Addr().String())
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	d.stopCtx, d.runCtx = stopCtx, runCtx

	quitIngest := make(chan struct{})
	go d.ingester(quitIngest)
	srv := &http.Server{
		Handler:           d.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(d.Logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	// Events stored but not applied before a restart: restore their stage
	// events and queue their refresh.
	for _, a := range d.Accounts {
		if err := d.requeuePending(stopCtx, d.accounts[a.Subdomain]); err != nil && stopCtx.Err() == nil {
			d.Logger.Error("pending webhooks not requeued", slog.String(keyAccount, a.Subdomain), slog.String(keyError, err.Error()))
		}
	}
	for _, a := range d.accounts {
		d.wg.Add(1)
		go d.refresher(a)
	}
	cl := cronLogger{d.Logger}
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)), cron.WithLogger(cl))
	scheduled := 0
	for _, a := range d.Accounts {
		if acc := d.accounts[a.Subdomain]; acc.plan != nil {
			c.Schedule(acc.plan, cron.FuncJob(d.job(acc)))
			scheduled++
		}
	}
	c.Start()
	d.ready.Store(true)
	s := d.Config.Schedule
	d.Logger.Info("serving", slog.String("addr", d.Addr()), slog.Int("accounts", len(d.Accounts)),
		slog.Int("scheduled", scheduled), slog.String("tail", s.Tail), slog.String("sync", s.Sync),
		slog.String("full", s.Full), slog.Duration("jitter", s.Jitter))

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
		serveErr <- nil
	}
	d.ready.Store(false)
	stop()
	deadline := time.Now().Add(d.ShutdownTimeout)
	d.Logger.Info("shutting down: webhooks closed, waiting for running syncs", slog.Duration("timeout", d.ShutdownTimeout))
	cronDone := c.Stop()
	shCtx, cancel := context.WithDeadline(context.Background(), deadline)
	if serr := srv.Shutdown(shCtx); serr != nil {
		srv.Close()
	}
	cancel()
	<-serveErr
	close(quitIngest)
	<-d.ingestDone

	idle := make(chan struct{})
	go func() {
		<-cronDone.Done()
		d.wg.Wait()
		close(idle)
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-idle:
	case <-timer.C:
		d.Logger.Warn("runs still going at the shutdown timeout: cancelling them; the next start resumes from their checkpoint")
		cancelRuns()
		<-idle
	}
	d.Logger.Info("stopped")
	return err
}

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
		if wait := acc.backingOff(d.Now()); wait > 0 {
			acc.plan.owe(mode)
			d.metrics.skipped.WithLabelValues(acc.name, skipBackoff).Inc()
			if d.limiter.allow(acc.name+"/backoff", d.Now()) {
				acc.log.Info("run postponed: the account is backing off after failed runs",
					slog.String(keyMode, mode), slog.Duration("retry_in", wait.Round(time.Second)))
			}
			return
		}
		if j := d.Config.Schedule.Jitter; j > 0 && !sleep(d.stopCtx, rand.N(j)) {
			return
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
			n, wait := acc.fail(d.Now(), d.FailureBackoff, d.MaxBackoff)
			acc.log.Error("scheduled run panicked; the account backs off", slog.String(keyMode, mode),
				slog.Int("failures", n), slog.Duration("retry_in", wait))
		}
	}()
	run, err := d.RunAccount(d.runCtx, acc.cfg, mode)
	returned = true
	took := time.Since(start)
	switch {
	case errors.Is(err, ErrBusy):
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
		if acc.succeed() {
			acc.log.Info("account recovered", slog.String(keyMode, mode))
		}
		if mode == ModeSync || mode == ModeFull {
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
		n, wait := acc.fail(d.Now(), d.FailureBackoff, d.MaxBackoff)
		acc.log.Warn("run failed; the account backs off", slog.String(keyMode, mode),
			slog.Int("failures", n), slog.Duration("retry_in", wait))
	}
	if err := d.requeuePending(d.runCtx, acc); err != nil && d.runCtx.Err() == nil {
		acc.log.Warn("pending webhooks not requeued", slog.String(keyError, err.Error()))
	}
}

// backingOff returns how long the account still waits after failures.
func (a *account) backingOff(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.retryAt.Sub(now)
}

// fail records a failed run and returns the failure count and the wait.
func (a *account) fail(now time.Time, first, limit time.Duration) (int, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures++
	wait := backoff(a.failures, first, limit)
	a.retryAt = now.Add(wait)
	return a.failures, wait
}

// succeed clears the failures and reports whether there were any.
func (a *account) succeed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	had := a.failures > 0
	a.failures, a.retryAt = 0, time.Time{}
	return had
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

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
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
func newPlan(s ScheduleConfig) (*plan, error) {
	p := &plan{}
	for _, k := range []struct{ mode, name, expr string }{
		{ModeFull, "full", s.Full}, {ModeSync, "sync", s.Sync}, {ModeTail, "tail", s.Tail},
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
// skips at info, recovered panics at error.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Info("cron firing skipped: the account's previous run is still going; what came due runs at the next firing")
		return
	}
	c.l.Debug("cron "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	if msg == "panic" {
		msg = "scheduled run panicked"
	}
	c.l.Error(msg, append([]any{slog.String(keyError, err.Error())}, kv...)...)
}
