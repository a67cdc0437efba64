// Package sync is stackhouse's engine: per-account runs (backfill,
// incremental sync, tail pass, webhook refresh of named candidates), change
// detection by row hash, stage history rebuilt from notes and observation,
// attachment downloads, and the configuration. The daemon that schedules
// runs and receives webhooks is package sync/daemon, which uses only this
// package's exported API.
//
// Data flows one way: the applicantstack client reads, schema maps, one
// writer per account commits batches with their checkpoint to the
// warehouse, and the warehouse publishes.
package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	stdsync "sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// Modes of a run, as recorded in sync_runs.mode.
const (
	ModeBackfill = "backfill" // everything, resumable, details newest and active first
	ModeSync     = "sync"     // list every page, details for new or changed rows
	ModeFull     = "full"     // a sync that refetches every detail
	ModeTail     = "tail"     // the last pages only, where new applications land
	ModeWebhook  = "webhook"  // detail refresh of candidates named by webhooks
)

// Defaults for a Syncer's fields.
const (
	DefaultAccountParallelism = 4
	DefaultTailPages          = 2
	DefaultDetailChunk        = 20000
	DefaultPublishEvery       = 10 * time.Minute
)

// Syncer runs syncs of the accounts of one configuration into one
// warehouse. It is safe for concurrent use by several accounts; two runs of
// the same account at once are refused with ErrBusy.
type Syncer struct {
	Config *Config
	DB     *warehouse.DB
	Logger *slog.Logger
	Now    func() time.Time

	AccountParallelism int // accounts synced at once by RunAll
	TailPages          int // pages a tail pass reads from the end
	BatchRows          int // rows per warehouse transaction
	DetailChunk        int // pending details read from the warehouse at a time
	// Publish, when set, publishes Parquet and the read-only copy after
	// successful runs.
	Publish bool
	// CopyInterval is the least time between two replacements of the
	// read-only copy: a publish within it refreshes the Parquet tree only
	// (sync and serve set warehouse.copy_interval; 0 replaces the copy after
	// every run that changed something). A copy that took long keeps the
	// next for warehouse.CopyCostRatio times as long.
	CopyInterval time.Duration
	// PublishEvery, with Publish, makes a run that takes longer publish what
	// it has so far this often (a backfill of a large account becomes
	// readable long before it ends); 0 publishes only at the end.
	PublishEvery time.Duration
	// Remote, when set, receives the published Parquet files that changed
	// and then their accounts' manifests (publish.url; see OpenRemote).
	Remote warehouse.Remote
	// OnPublished, when set, is called after every successful publish with
	// what it did: the daemon catches up a copy kept for CopyInterval
	// (PublishStats.CopyStale) once the interval has passed.
	OnPublished func(warehouse.PublishStats)
	// OnProgress, when set, is called once at the start of every run with
	// a Progress the run keeps current; a progress bar polls it.
	OnProgress func(*Progress)

	// createBlob, when set, replaces the creation of attachment temp
	// files (a test seam: a full disk).
	createBlob func(dir, pattern string) (blobFile, error)

	mu      stdsync.Mutex
	clients map[string]*applicantstack.Client
	running map[string]bool
}

// ErrBusy is returned when the account already has a run in progress.
var ErrBusy = errors.New("sync: account already has a run in progress")

// NewSyncer returns a syncer for cfg writing to db, with defaults set.
func NewSyncer(cfg *Config, db *warehouse.DB) *Syncer {
	return &Syncer{
		Config:             cfg,
		DB:                 db,
		Logger:             slog.New(slog.DiscardHandler),
		Now:                time.Now,
		AccountParallelism: DefaultAccountParallelism,
		TailPages:          DefaultTailPages,
		BatchRows:          DefaultBatchRows,
		DetailChunk:        DefaultDetailChunk,
		Publish:            true,
		PublishEvery:       DefaultPublishEvery,
		clients:            map[string]*applicantstack.Client{},
		running:            map[string]bool{},
	}
}

// Client returns the account's API client. One client per account lives as
// long as the Syncer, so its rate limiter is shared by every run.
func (s *Syncer) Client(a *AccountConfig) *applicantstack.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[a.Subdomain]
	if !ok {
		c = a.Client()
		c.Logger = s.Logger.With(slog.String(keyAccount, a.Subdomain))
		s.clients[a.Subdomain] = c
	}
	return c
}

// Result is the outcome of one account's run.
type Result struct {
	Run schema.Run
	Err error
}

// RunAll runs mode for each account, AccountParallelism at a time. One
// account's failure does not stop the others; every result is returned in
// the order of accounts. After the runs, successful accounts are published
// once (when Publish is set).
func (s *Syncer) RunAll(ctx context.Context, accounts []*AccountConfig, mode string) []Result {
	results := make([]Result, len(accounts))
	g := new(errgroup.Group)
	g.SetLimit(max(s.AccountParallelism, 1))
	for i, a := range accounts {
		g.Go(func() error {
			r, err := s.run(ctx, a, mode)
			results[i] = Result{Run: r, Err: err}
			return nil
		})
	}
	g.Wait()
	if s.Publish && ctx.Err() == nil {
		var ok []string
		for _, r := range results {
			if r.Err == nil {
				ok = append(ok, r.Run.AccountID)
			}
		}
		if len(ok) > 0 {
			if _, err := s.PublishAccounts(ctx, ok); err != nil {
				for i := range results {
					if results[i].Err == nil {
						results[i].Err = fmt.Errorf("publish: %w", err)
					}
				}
			}
		}
	}
	return results
}

// Run runs mode for one account and publishes it when Publish is set.
func (s *Syncer) Run(ctx context.Context, a *AccountConfig, mode string) (schema.Run, error) {
	r, err := s.run(ctx, a, mode)
	if err == nil && s.Publish {
		_, err = s.PublishAccounts(ctx, []string{a.Subdomain})
	}
	return r, err
}

// PublishAccounts refreshes the read-only copy and the Parquet partitions
// of the given accounts.
func (s *Syncer) PublishAccounts(ctx context.Context, accounts []string) (warehouse.PublishStats, error) {
	w := s.Config.Warehouse
	if w.PublishedPath == "" && w.ParquetDir == "" {
		return warehouse.PublishStats{}, nil
	}
	start := time.Now()
	st, err := s.DB.Publish(ctx, warehouse.PublishOptions{
		ReadOnlyPath: w.PublishedPath, ParquetDir: w.ParquetDir, Accounts: accounts, Now: s.Now, Remote: s.Remote,
		CopyInterval: s.CopyInterval,
	})
	if err == nil {
		attrs := []any{slog.Any("accounts", accounts), slog.Duration("took", time.Since(start).Round(time.Millisecond)),
			slog.Int("parquet_files", st.Files), slog.Bool("copy_replaced", st.Copied), slog.Int64("bytes", st.Bytes)}
		if st.Copied {
			attrs = append(attrs, slog.Duration("copy_took", st.CopyTook.Round(time.Millisecond)))
		}
		if st.CopyStale {
			// The data changed but the copy is kept until then
			// (copy_interval, or CopyCostRatio times the last copy).
			attrs = append(attrs, slog.Time("copy_due", st.CopyDue.UTC().Truncate(time.Second)))
		}
		if s.Remote != nil {
			attrs = append(attrs, slog.String("remote", s.Remote.URL()), slog.Int("uploaded_files", st.Uploaded),
				slog.Int64("uploaded_bytes", st.UploadedBytes))
		}
		s.Logger.Info("published", attrs...)
		if s.OnPublished != nil {
			s.OnPublished(st)
		}
	}
	return st, err
}

func (s *Syncer) acquire(account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[account] {
		return false
	}
	s.running[account] = true
	return true
}

func (s *Syncer) release(account string) {
	s.mu.Lock()
	delete(s.running, account)
	s.mu.Unlock()
}

// InShard reports whether account belongs to shard i of n, by a stable hash
// of the subdomain, so that workers can split thousands of accounts.
func InShard(account string, i, n int) bool {
	if n <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(account))
	return int(h.Sum32()%uint32(n)) == i
}

func newRunID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Log attribute keys.
const (
	keyAccount = "account"
	keyRun     = "run"
	keyMode    = "mode"
	keyError   = "error"
)
