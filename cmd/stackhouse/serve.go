package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stackhouse/stackhouse/sync/daemon"
)

const serveUsage = `serve [-config F] [-shard i/n|auto/n] [-listen addr]

Runs stackhouse as a daemon until SIGTERM or SIGINT:

  - syncs every account on the config's schedule: a cheap tail pass (the last candidate
    pages and pending webhook refreshes), an incremental sync and a full scan, standard
    cron expressions or "@every 5m"; never two runs of one account at once; a failing
    account backs off (up to 1h) without holding up the others
  - receives ApplicantStack stage-change webhooks on
      POST /webhooks/applicantstack/<subdomain>
    checks their Secret against the account's webhook_secret, stores them, records the
    stage change at once and refreshes the candidate within seconds
  - serves GET /healthz (alive), GET /readyz (warehouse ready; JSON with each account's
    last run) and GET /metrics (Prometheus)
  - publishes the read-only database and Parquet after each run, for BI tools

On SIGTERM or SIGINT it stops taking webhooks, lets running syncs finish for up to
server.shutdown_timeout, then interrupts them (the next start resumes from their
checkpoint) and exits 0. A second signal exits at once.

Logs are JSON unless stdout is a terminal; LOG_LEVEL overrides log_level.
See deploy/README.md for systemd, Kubernetes and the ApplicantStack webhook set-up.`

func serveFlags(fs *flag.FlagSet) action {
	shard := fs.String("shard", "", shardHelp+"; route each account's webhooks to its shard")
	listen := fs.String("listen", "", "address for webhooks, /healthz, /readyz and /metrics (default: server.listen from the config)")
	return func(ctx context.Context, in *invocation) error { return serve(ctx, in, *shard, *listen) }
}

// serve runs the daemon for the accounts of the shard until ctx ends.
func serve(ctx context.Context, in *invocation, shard, listen string) error {
	cfg, stdout, stderr := in.cfg, in.stdout, in.stderr
	accounts, err := (&selection{shard: shard}).accounts(cfg)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel, cfg.LogFormat)
	if len(accounts) == 0 {
		logger.Warn("no account in this shard: serving health and metrics only", slog.String("shard", shard))
	}
	s, err := openSyncer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	db := s.DB
	if err := db.SaveStatus(ctx); err != nil { // status works before the first run ends
		logger.Warn("status not recorded", slog.String("error", err.Error()))
	}
	d := daemon.New(cfg, db, s)
	d.Logger = logger
	for _, c := range []prometheus.Collector{newBuildInfo(), newPublishCollector(db)} {
		if err := d.Registry.Register(c); err != nil {
			db.Close()
			return err
		}
	}
	d.Accounts = accounts
	if listen != "" {
		d.Listen = listen
	}
	stopWatching := exitOnSecondSignal(stderr)
	err = d.Run(ctx)
	stopWatching()
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close warehouse: %w", cerr)
	}
	return err
}

// exitOnSecondSignal exits the process at once on the second SIGINT or
// SIGTERM (the first one ends main's context and starts a clean shutdown).
// The returned function stops watching.
func exitOnSecondSignal(stderr io.Writer) (stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		seen := 0
		for {
			select {
			case <-ch:
				if seen++; seen >= 2 {
					fmt.Fprintln(stderr, "error: second signal: exiting without waiting for running syncs")
					os.Exit(1)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-exited
	}
}
