// Package daemon is `stackhouse serve`: it runs the engine (package sync)
// on cron schedules, receives ApplicantStack stage-change webhooks, stores
// them in group commits, refreshes the candidates they name, and serves
// /healthz, /readyz and Prometheus /metrics.
//
// It uses only the engine's exported API (sync.Syncer, sync.Config) and the
// warehouse's methods; it sends no SQL of its own.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	stdsync "sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
)

// Defaults for a Daemon's fields (New sets them).
const (
	DefaultRefreshInterval = time.Second
	DefaultRefreshBatch    = 200
	DefaultFailureBackoff  = time.Minute
	DefaultMaxBackoff      = time.Hour
	DefaultMaxWebhookBytes = 1 << 20
	DefaultIngestBatch     = 1000
)

// Daemon runs each account's tail, sync and full passes on the configured
// cron schedules, receives ApplicantStack stage-change webhooks, refreshes
// the candidates they name, and serves /healthz, /readyz and /metrics.
//
// Scheduling: each account has one cron entry whose schedule merges the
// three kinds; when it fires, the strongest kind due runs (full covers sync,
// sync covers tail), and a kind that comes due while the account is busy is
// run at the entry's next firing instead of being lost. A failing account
// backs off exponentially (FailureBackoff doubling up to MaxBackoff) without
// holding up the others; a panic is recovered and counted.
//
// Runs of one account never overlap. Three guards meet there, each for its
// own reason:
//
//   - cron's SkipIfStillRunning keeps one goroutine per account's cron
//     entry: a firing during a long run is dropped rather than queued
//     behind it (what came due is owed by the plan and runs at the next
//     firing), so goroutines cannot pile up during a two-hour full scan.
//   - the account's run slot (account.slot) orders the daemon's two sources
//     of runs: a scheduled pass waits for the slot, a webhook refresh only
//     tries it, so refreshes arriving every second cannot starve the
//     schedule.
//   - sync.Syncer refuses a second run of an account with sync.ErrBusy. That
//     is the engine's own invariant for every caller (two runs would share a
//     checkpoint); inside the daemon the slot makes it unreachable, unless
//     RunAccount is replaced or another caller shares the Syncer, and both
//     paths handle it.
//
// Set the exported fields after New and before Run. Run owns every
// goroutine it starts and ends them all before it returns. The Daemon does
// not close the warehouse.
type Daemon struct {
	Config *sync.Config
	DB     *warehouse.DB
	Syncer *sync.Syncer
	Logger *slog.Logger
	// Accounts are the accounts scheduled and accepting webhooks here:
	// every configured account by default (serve -shard narrows them).
	Accounts []*sync.AccountConfig
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
	// FailureBackoff is the wait after an account's first failed scheduled
	// run, doubled after each further failure up to MaxBackoff.
	FailureBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxWebhookBytes is the largest webhook body accepted (413 above).
	MaxWebhookBytes int64
	// IngestBatch caps the webhooks stored in one transaction.
	IngestBatch int
	// PublishDelay is how long after a webhook's change the changed
	// accounts are published (a burst within it costs one publish); see
	// publishLoop.
	PublishDelay time.Duration
	// Registry receives the daemon's metrics, served on /metrics. New
	// makes a new one; the global registry is never used.
	Registry *prometheus.Registry
	Now      func() time.Time
	// RunAccount runs one scheduled pass of an account (Syncer.Run by
	// default). It is a test seam: wrap it to inject failures or panics.
	RunAccount func(ctx context.Context, a *sync.AccountConfig, mode string) (schema.Run, error)

	accounts map[string]*account
	metrics  *metrics
	limiter  *logLimiter
	ingest   *ingester
	stopCtx  context.Context   // ends when shutdown starts
	runCtx   context.Context   // ends when the shutdown timeout expires
	wg       stdsync.WaitGroup // refreshers and the publisher
	pub      *publisher
	ready    atomic.Bool
	addr     atomic.Value // string
}

// New returns a daemon for the accounts of cfg, writing to db through
// syncer, with every field at its default. It is the one place the
// defaults are set; Run checks them and fills none.
func New(cfg *sync.Config, db *warehouse.DB, syncer *sync.Syncer) *Daemon {
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
		PublishDelay:    DefaultPublishDelay,
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

// check reports the first field that is missing or out of range.
func (d *Daemon) check() error {
	switch {
	case d.Config == nil || d.DB == nil || d.Syncer == nil:
		return errors.New("daemon: Config, DB and Syncer are required")
	case d.Logger == nil || d.Now == nil || d.Registry == nil || d.RunAccount == nil:
		return errors.New("daemon: Logger, Now, Registry and RunAccount are required (New sets them)")
	}
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"ShutdownTimeout", d.ShutdownTimeout > 0},
		{"RefreshInterval", d.RefreshInterval > 0},
		{"RefreshBatch", d.RefreshBatch > 0},
		{"FailureBackoff", d.FailureBackoff > 0},
		{"MaxBackoff", d.MaxBackoff > 0},
		{"MaxWebhookBytes", d.MaxWebhookBytes > 0},
		{"IngestBatch", d.IngestBatch > 0},
		{"PublishDelay", d.PublishDelay > 0},
	} {
		if !f.ok {
			return fmt.Errorf("daemon: %s must be positive", f.name)
		}
	}
	return nil
}

// init checks the fields and builds the per-account state.
func (d *Daemon) init() error {
	if err := d.check(); err != nil {
		return err
	}
	d.accounts = make(map[string]*account, len(d.Accounts))
	for _, a := range d.Accounts {
		p, err := newPlan(d.Config.Schedule)
		if err != nil {
			return err
		}
		d.accounts[a.Subdomain] = newAccount(a, d.Config, p, d.Logger, d.Now)
	}
	d.limiter = &logLimiter{every: time.Minute, last: make(map[string]time.Time)}
	m, err := newMetrics(d.Registry, d)
	if err != nil {
		return fmt.Errorf("daemon metrics: %w", err)
	}
	d.metrics = m
	d.ingest = newIngester(d.DB, d.IngestBatch)
	d.pub = newPublisher()
	return nil
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
	d.loadLastSuccess(ctx)
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

	go d.ingest.run()
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
	if d.Syncer.Publish {
		d.Syncer.OnPublished = d.pub.published
		d.wg.Add(1)
		go d.publishLoop()
	}
	c, cl := d.schedule()
	d.ready.Store(true)

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
	d.ingest.close()

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
	cl.close()
	d.Logger.Info("stopped")
	return err
}

// schedule starts cron with one entry per scheduled account and logs what
// is served.
func (d *Daemon) schedule() (*cron.Cron, *cronLogger) {
	cl := &cronLogger{l: d.Logger}
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)), cron.WithLogger(cl))
	scheduled := 0
	for _, a := range d.Accounts {
		if acc := d.accounts[a.Subdomain]; acc.plan != nil {
			c.Schedule(acc.plan, cron.FuncJob(d.job(acc)))
			scheduled++
		}
	}
	c.Start()
	s := d.Config.Schedule
	d.Logger.Info("serving", slog.String("addr", d.Addr()), slog.Int("accounts", len(d.Accounts)),
		slog.Int("scheduled", scheduled), slog.String("tail", s.Tail), slog.String("sync", s.Sync),
		slog.String("full", s.Full), slog.Duration("jitter", s.Jitter))
	return c, cl
}

// Log attribute keys.
const (
	keyAccount = "account"
	keyMode    = "mode"
	keyError   = "error"
)
