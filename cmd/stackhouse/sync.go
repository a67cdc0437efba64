package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
)

const syncUsage = `sync [-config F] [-account A] [-full] [-tail] [-shard i/n] [-allow-mass-deletion]

Lists every job and candidate page of each account, fetches detail only for new or changed
records, downloads new files, marks records the API no longer returns as deleted, then
publishes Parquet and the read-only database. An interrupted run resumes where it stopped.

A scan that misses more than max_deletion_share (default 0.2) of an account's candidates marks
none of them deleted and warns: the API may be misbehaving. If they really were deleted, run
sync -allow-mass-deletion once.`

func syncFlags(fs *flag.FlagSet) action {
	o := selectFlags(fs)
	full := fs.Bool("full", false, "refetch every detail (repairs a warehouse; costs one request per record)")
	tail := fs.Bool("tail", false, "cheap pass: only the last candidate pages, where new applications land")
	allow := fs.Bool("allow-mass-deletion", false, "this run may mark deleted more than max_deletion_share of an account's candidates (each still confirmed by a 404)")
	return func(ctx context.Context, in *invocation) error {
		if *allow {
			in.cfg.MaxDeletionShare = 1
		}
		mode := sync.ModeSync
		switch {
		case *full && *tail:
			return &usageError{msg: "-full and -tail cannot be combined"}
		case *full:
			mode = sync.ModeFull
		case *tail:
			mode = sync.ModeTail
		}
		return o.run(ctx, in, mode)
	}
}

const backfillUsage = `backfill [-config F] [-account A] [-shard i/n]

Loads everything: every page, every detail (active applications and newest first, so the
warehouse is useful early), every file. Shows a progress bar on a terminal and a log line
every 15s otherwise. Safe to stop at any time (Ctrl-C, kill): run it again to resume.`

func backfillFlags(fs *flag.FlagSet) action {
	o := selectFlags(fs)
	return func(ctx context.Context, in *invocation) error { return o.run(ctx, in, sync.ModeBackfill) }
}

// selection is the accounts a sync runs for (-account, -shard) and how it
// reports (-quiet).
type selection struct {
	account, shard string
	quiet          bool
}

func selectFlags(fs *flag.FlagSet) *selection {
	o := new(selection)
	fs.StringVar(&o.account, "account", "", "only this account (subdomain or name)")
	fs.StringVar(&o.shard, "shard", "", shardHelp)
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output")
	return o
}

// accounts returns the configured accounts the flags select.
func (o *selection) accounts(cfg *sync.Config) ([]*sync.AccountConfig, error) {
	var out []*sync.AccountConfig
	if o.account != "" {
		a, err := cfg.Account(o.account)
		if err != nil {
			return nil, err
		}
		out = []*sync.AccountConfig{a}
	} else {
		for i := range cfg.Accounts {
			out = append(out, &cfg.Accounts[i])
		}
	}
	if o.shard != "" {
		i, n, err := resolveShard(o.shard)
		if err != nil {
			return nil, &usageError{msg: err.Error()}
		}
		kept := out[:0]
		for _, a := range out {
			if sync.InShard(a.Subdomain, i, n) {
				kept = append(kept, a)
			}
		}
		out = kept
	}
	return out, nil
}

func (o *selection) run(ctx context.Context, in *invocation, mode string) error {
	cfg, stderr := in.cfg, in.stderr
	accounts, err := o.accounts(cfg)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if len(accounts) == 0 {
		logger.Warn("no account in this shard; nothing to do", slog.String("shard", o.shard))
		return nil
	}
	s, err := openSyncer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	tty := isTerminal(stderr)
	if tty && !o.quiet {
		// Bars and log lines would fight over the terminal: keep warnings.
		s.Logger = newLogger(stderr, "warn", cfg.LogFormat)
	}
	if mode == sync.ModeBackfill && !o.quiet {
		for _, a := range accounts {
			if e, err := estimateBackfill(ctx, a); err == nil {
				fmt.Fprintf(stderr, "%s: backfill of %s\n", a.Subdomain, e)
			}
		}
	}
	var view *progressView
	if !o.quiet && (mode == sync.ModeBackfill || tty) {
		view = newProgressView(ctx, stderr, logger, tty)
		s.OnProgress = view.add
	}
	results := s.RunAll(ctx, accounts, mode)
	if view != nil {
		view.close()
	}
	return summarize(in.stdout, results, ctx.Err())
}

// summarize prints one line per account and returns an error naming the
// accounts that failed.
func summarize(w io.Writer, results []sync.Result, ctxErr error) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tMODE\tSTATUS\tREQUESTS\tNEW\tCHANGED\tUNCHANGED\tDELETED\tDETAILS\tFILES\tREJECTED\tTOOK")
	var failed []string
	for _, r := range results {
		run := r.Run
		status := run.Status
		if r.Err != nil && status == "succeeded" {
			status = "failed"
		}
		if r.Err != nil {
			failed = append(failed, run.AccountID)
		}
		took := "-"
		if !run.FinishedAt.IsZero() {
			took = run.FinishedAt.Sub(run.StartedAt).Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", run.AccountID, run.Mode, status,
			run.Requests, run.RowsNew, run.RowsChanged, run.RowsUnchanged, run.RowsDeleted,
			run.DetailsFetched, run.FilesDownloaded, run.Rejected, took)
	}
	tw.Flush()
	unreachable := false
	for _, r := range results {
		if r.Err != nil {
			// The engine's errors name the account already; say it once.
			msg := strings.TrimPrefix(r.Err.Error(), "account "+r.Run.AccountID+": ")
			fmt.Fprintf(w, "%s: %s\n", r.Run.AccountID, msg)
			unreachable = unreachable || applicantstack.IsUnreachable(r.Err)
		}
		if r.Run.Warning != "" {
			fmt.Fprintf(w, "%s: warning: %s\n", r.Run.AccountID, r.Run.Warning)
		}
	}
	if ctxErr != nil {
		return withHint(errors.New("interrupted"), "run the same command again: it resumes from the last checkpoint")
	}
	if len(failed) > 0 {
		err := fmt.Errorf("%d of %d %s failed: %s", len(failed), len(results), plural(len(results), "account"), strings.Join(failed, ", "))
		if unreachable {
			return withHint(err, "ApplicantStack could not be reached: check the account's subdomain and base_url "+
				"in the configuration (the host name must resolve and accept connections)")
		}
		return err
	}
	return nil
}

// plural returns noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// openSyncer opens the warehouse (see openWarehouse) and returns a syncer
// on it that logs to logger. The caller closes s.DB.
func openSyncer(ctx context.Context, cfg *sync.Config, logger *slog.Logger) (*sync.Syncer, error) {
	db, err := openWarehouse(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	if removed := warehouse.CleanJunk(cfg.Warehouse.PublishedPath, cfg.Warehouse.ParquetDir); len(removed) > 0 {
		logger.Info("removed what an interrupted publish left", slog.Int("paths", len(removed)))
	}
	s := sync.NewSyncer(cfg, db)
	s.Logger = logger
	s.CopyInterval = cfg.Warehouse.CopyInterval
	if s.Remote, err = openRemote(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openWarehouse opens (creating and migrating) the live warehouse, records
// the configured accounts and their time zones in it (the metrics' calendar
// dates), and makes sure the shared definitions and metric views exist.
// logger reports a schema upgrade.
func openWarehouse(ctx context.Context, cfg *sync.Config, logger *slog.Logger) (*warehouse.DB, error) {
	db, err := warehouse.OpenWith(ctx, cfg.Warehouse.DSN(), warehouse.OpenOptions{Log: logger})
	if err != nil {
		if strings.Contains(err.Error(), "lock") {
			return nil, withHint(err, "another stackhouse process (serve, sync) holds the warehouse; BI tools should open warehouse.published_path instead")
		}
		return nil, err
	}
	if err := db.UpsertAccounts(ctx, configAccounts(cfg)); err != nil {
		db.Close()
		return nil, err
	}
	if err := queries.CreateViews(ctx, db.SQL()); err != nil {
		db.Close()
		return nil, fmt.Errorf("metric views: %w", err)
	}
	return db, nil
}

const shardHelp = "only accounts in shard i of n (i/n, by a stable hash of the subdomain); auto/n takes i from " +
	"$STACKHOUSE_SHARD_INDEX or the StatefulSet pod's host name (stackhouse-2 → 2)"

// resolveShard reads -shard, "auto" included, from this machine.
func resolveShard(spec string) (i, n int, err error) {
	host := os.Getenv("HOSTNAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	return sync.ResolveShard(spec, host, os.Getenv("STACKHOUSE_SHARD_INDEX"), os.Getenv("STACKHOUSE_SHARDS"))
}

// openRemote opens publish.url, or returns nil when there is none.
func openRemote(ctx context.Context, cfg *sync.Config) (warehouse.Remote, error) {
	if cfg.Publish.URL == "" {
		return nil, nil
	}
	b, err := sync.OpenRemote(ctx, cfg.Publish, cfg.Publish.URL)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
