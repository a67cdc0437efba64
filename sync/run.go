package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

// Progress is a run's live progress. Its counters are updated by the run
// and read by progress bars and log lines from other goroutines.
type Progress struct {
	Account string
	Mode    string
	Started time.Time

	phase        atomic.Value // string
	PagesTotal   atomic.Int64
	PagesDone    atomic.Int64
	Records      atomic.Int64
	DetailsTotal atomic.Int64
	DetailsDone  atomic.Int64
	Files        atomic.Int64
}

// Phase returns what the run is doing: jobs, candidates, details, hires,
// deletions or done.
func (p *Progress) Phase() string {
	s, _ := p.phase.Load().(string)
	return s
}

func (p *Progress) setPhase(s string) { p.phase.Store(s) }

// runner is one run of one account.
type runner struct {
	s       *Syncer
	a       *AccountConfig
	c       *applicantstack.Client
	db      *warehouse.DB
	m       schema.Mapper
	log     *slog.Logger
	mode    string
	run     schema.Run
	seenAt  time.Time // when this run saw its rows
	prog    *Progress
	w       *writer
	base    applicantstack.Stats
	counts  runCounts
	files   *fileStore
	fileRun *fileRun // nil without files
	cstates *warehouse.CandidateStates
	wstats  writeStats
	// holdDeletions is set when the candidates missing from a complete
	// scan are too many to mark deleted (see verifyVanished).
	holdDeletions bool
	warnMu        stdsync.Mutex
	warnings      []string // for the run record; see warn
	// phases is how long each phase took, in the order entered.
	phases     []slog.Attr
	phase      string
	phaseStart time.Time
}

// enter starts phase (progress bars show it) and ends the one before,
// noting how long it took for the run's log line.
func (r *runner) enter(phase string) {
	now := time.Now()
	if r.phase != "" {
		r.phases = append(r.phases, slog.Duration(r.phase, now.Sub(r.phaseStart).Round(time.Millisecond)))
	}
	r.phase, r.phaseStart = phase, now
	r.prog.setPhase(phase)
}

// newWriter returns a writer of the run's account whose time is counted
// in the run's write stats.
func (r *runner) newWriter(checkpoint string, state scanState) *writer {
	w := newWriter(r.db, r.a.Subdomain, r.run.RunID, r.mode, checkpoint, state, r.s.BatchRows)
	w.stats = &r.wstats
	if checkpoint != "" && r.s.Publish && r.s.PublishEvery > 0 {
		w.publish, w.publishEvery, w.published = r.publishPartial, r.s.PublishEvery, time.Now()
	}
	w.onLand = r.saveProgress
	return w
}

// saveProgress records the run's counts so far in sync_runs (still
// running): a run killed later keeps the requests it made and the rows it
// wrote, and the next run marks it interrupted. A failure to record is
// logged: the rows it follows are landed.
func (r *runner) saveProgress(ctx context.Context) {
	run := r.snapshot()
	run.Status = schema.RunRunning
	if err := r.db.StartRun(ctx, run); err != nil && ctx.Err() == nil {
		r.log.Warn("recording the run's progress", slog.String(keyError, err.Error()))
	}
}

type runCounts struct {
	pages, rowsNew, rowsChanged, rowsUnchanged, rowsDeleted atomic.Int64
	details, files, rejected                                atomic.Int64
	filesPending                                            atomic.Int64
}

func (s *Syncer) run(ctx context.Context, a *AccountConfig, mode string) (schema.Run, error) {
	return s.runWith(ctx, a, mode, (*runner).do)
}

// runWith runs body as one recorded run of the account: it takes the
// account's run slot, records the run in sync_runs, and finishes it.
func (s *Syncer) runWith(ctx context.Context, a *AccountConfig, mode string, body func(*runner, context.Context) error) (schema.Run, error) {
	now := s.Now().UTC()
	r := &runner{
		s: s, a: a, c: s.Client(a), db: s.DB, mode: mode, seenAt: now,
		m: schema.Mapper{Account: a.Subdomain, Location: a.Location(), Funnel: s.Config.FunnelRules(a), Now: s.Now},
		run: schema.Run{
			RunID: newRunID(now), AccountID: a.Subdomain, Mode: mode,
			Status: schema.RunRunning, StartedAt: now,
		},
		prog: &Progress{Account: a.Subdomain, Mode: mode, Started: now},
	}
	r.log = s.Logger.With(slog.String(keyAccount, a.Subdomain), slog.String(keyRun, r.run.RunID), slog.String(keyMode, mode))
	if !s.acquire(a.Subdomain) {
		return r.run, ErrBusy
	}
	defer s.release(a.Subdomain)
	if a.AttachmentsEnabled() && s.Config.Warehouse.AttachmentsDir != "" {
		r.files = newFileStore(s.Config.Warehouse.AttachmentsDir)
		if s.createBlob != nil {
			r.files.createTemp = s.createBlob
		}
		r.fileRun = &fileRun{}
		r.fileRun.stopCtx, r.fileRun.stop = context.WithCancel(ctx)
		defer r.fileRun.stop()
	}
	r.base = r.c.Stats()
	if s.OnProgress != nil {
		s.OnProgress(r.prog)
	}
	// This run holds the account: a run of it still recorded as running
	// was killed before it could finish.
	if n, err := s.DB.InterruptRuns(ctx, a.Subdomain, abandonedRun); err != nil {
		return r.run, fmt.Errorf("account %s: %w", a.Subdomain, err)
	} else if n > 0 {
		r.log.Warn("runs that never finished marked interrupted", slog.Int64("runs", n))
	}
	if err := s.DB.StartRun(ctx, r.run); err != nil {
		return r.run, fmt.Errorf("account %s: start run: %w", a.Subdomain, err)
	}
	r.log.Info("run started")
	err := body(r, ctx)
	return r.finish(err)
}

func (r *runner) do(ctx context.Context) error {
	if err := r.mergeLeftovers(ctx); err != nil {
		return err
	}
	if err := r.jobs(ctx); err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	if err := r.candidates(ctx); err != nil {
		return err
	}
	if r.a.HiresEnabled() && r.mode != ModeTail {
		if err := r.hires(ctx); err != nil {
			return fmt.Errorf("hires: %w", err)
		}
	}
	return nil
}

// mergeLeftovers merges rows an interrupted run landed and did not merge,
// so that the states this run reads are current.
func (r *runner) mergeLeftovers(ctx context.Context) error {
	landed, err := r.db.Landed(ctx, r.a.Subdomain)
	if err != nil || len(landed) == 0 {
		return err
	}
	r.log.Info("merging rows an interrupted run landed", slog.Any("rows", landed))
	if _, err := r.db.Merge(ctx, r.a.Subdomain); err != nil {
		return fmt.Errorf("merge landed rows: %w", err)
	}
	return nil
}

// publishPartial publishes the account while its run goes on: what a long
// backfill has so far becomes readable. A failure is logged; the run goes
// on, and publishes again at its end.
func (r *runner) publishPartial(ctx context.Context) {
	r.log.Info("publishing what the run has so far")
	if _, err := r.s.PublishAccounts(ctx, []string{r.a.Subdomain}); err != nil && ctx.Err() == nil {
		r.log.Warn("publishing during the run failed; the run goes on", slog.String(keyError, err.Error()))
	}
}

// abandonedRun is the error recorded on a run found running by the next run
// of its account: its process ended (killed, crashed) before it finished.
const abandonedRun = "interrupted: the process ended before the run finished; the next run took over its work"

// snapshot returns the run record with the counts so far.
func (r *runner) snapshot() schema.Run {
	st := r.c.Stats()
	run := r.run
	run.Requests = st.Requests - r.base.Requests
	run.Retries = st.Retries - r.base.Retries
	run.Throttled = st.Throttled - r.base.Throttled
	run.Pages = r.counts.pages.Load()
	run.RowsNew = r.counts.rowsNew.Load()
	run.RowsChanged = r.counts.rowsChanged.Load()
	run.RowsUnchanged = r.counts.rowsUnchanged.Load()
	run.RowsDeleted = r.counts.rowsDeleted.Load()
	run.DetailsFetched = r.counts.details.Load()
	run.FilesDownloaded = r.counts.files.Load()
	run.Rejected = r.counts.rejected.Load()
	run.FilesPending = r.counts.filesPending.Load()
	r.warnMu.Lock()
	run.Warning = strings.Join(r.warnings, "; ")
	r.warnMu.Unlock()
	return run
}

// warn logs msg as a warning and keeps it for the run's record (sync_runs
// warning, shown by status): something an operator should act on in a run
// that did not fail.
func (r *runner) warn(msg string, attrs ...any) {
	r.log.Warn(msg, attrs...)
	r.warnMu.Lock()
	r.warnings = append(r.warnings, msg)
	r.warnMu.Unlock()
}

// finish records the run in sync_runs. The record is written with a fresh
// context so that an interrupted run is still recorded as such.
func (r *runner) finish(err error) (schema.Run, error) {
	r.run = r.snapshot()
	run := &r.run
	run.FinishedAt = r.s.Now().UTC()
	switch {
	case err == nil:
		run.Status = schema.RunSucceeded
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		run.Status = schema.RunInterrupted
		run.Error = "interrupted: the next run resumes from the checkpoint"
	default:
		run.Status = schema.RunFailed
		run.Error = err.Error()
	}
	r.enter("done")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ferr := r.db.FinishRun(ctx, *run); ferr != nil && err == nil {
		err = fmt.Errorf("finish run: %w", ferr)
	}
	attrs := []slog.Attr{
		slog.String("status", run.Status), slog.Int64("requests", run.Requests), slog.Int64("pages", run.Pages),
		slog.Int64("new", run.RowsNew), slog.Int64("changed", run.RowsChanged), slog.Int64("unchanged", run.RowsUnchanged),
		slog.Int64("deleted", run.RowsDeleted), slog.Int64("details", run.DetailsFetched), slog.Int64("files", run.FilesDownloaded),
		slog.Int64("rejected", run.Rejected), slog.Int64("retries", run.Retries), slog.Int64("throttled", run.Throttled),
		slog.Int64("files_pending", run.FilesPending),
		slog.Duration("took", run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond)),
		slog.Duration("land_took", time.Duration(r.wstats.land.Load()).Round(time.Millisecond)),
		slog.Duration("merge_took", time.Duration(r.wstats.merge.Load()).Round(time.Millisecond)),
		slog.Int64("merges", r.wstats.merges.Load()),
		slog.Attr{Key: "phases", Value: slog.GroupValue(r.phases...)},
	}
	if err != nil {
		attrs = append(attrs, slog.String(keyError, err.Error()))
		r.log.LogAttrs(context.Background(), slog.LevelError, "run failed", attrs...)
		return *run, fmt.Errorf("account %s: %w", r.a.Subdomain, err)
	}
	r.log.LogAttrs(context.Background(), slog.LevelInfo, "run finished", attrs...)
	return *run, nil
}

// reject quarantines a record the API sent that could not be mapped.
func (r *runner) reject(resource, id string, raw []byte, reason error) schema.Rejected {
	r.counts.rejected.Add(1)
	r.log.Warn("record rejected", slog.String("resource", resource), slog.String("id", id), slog.String("reason", reason.Error()))
	return r.m.Reject(r.run.RunID, resource, id, raw, reason)
}

// listAll fetches every page of a list, page 1 first (for NumPages) and the
// rest concurrently, calling fn for each; pages that report a larger
// NumPages than page 1 (records added during the scan) are read too. skip
// reports pages already in the warehouse (page 1 is always read: it says
// how many pages there are). It returns the number of pages.
func listAll[T any](ctx context.Context, r *runner, fetch func(context.Context, int) (*applicantstack.Page[T], error),
	skip func(int) bool, fn func(context.Context, *applicantstack.Page[T]) error) (int, error) {
	p1, err := fetch(ctx, 1)
	if err != nil {
		return 0, fmt.Errorf("page 1: %w", err)
	}
	r.counts.pages.Add(1)
	var maxPages atomic.Int64
	maxPages.Store(int64(p1.NumPages))
	r.prog.PagesTotal.Add(int64(max(p1.NumPages, 1)))
	if err := fn(ctx, p1); err != nil {
		return 0, err
	}
	r.prog.PagesDone.Add(1)
	from := 2
	for {
		n := int(maxPages.Load())
		if from > n {
			return n, nil
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(r.a.Concurrency, 1))
		for page := from; page <= n; page++ {
			if skip(page) {
				r.prog.PagesDone.Add(1)
				continue
			}
			g.Go(func() error {
				p, err := fetch(gctx, page)
				if err != nil {
					return fmt.Errorf("page %d: %w", page, err)
				}
				r.counts.pages.Add(1)
				for {
					m := maxPages.Load()
					if int64(p.NumPages) <= m || maxPages.CompareAndSwap(m, int64(p.NumPages)) {
						break
					}
				}
				if err := fn(gctx, p); err != nil {
					return err
				}
				r.prog.PagesDone.Add(1)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return 0, err
		}
		if grown := int(maxPages.Load()) - n; grown > 0 {
			r.prog.PagesTotal.Add(int64(grown))
		}
		from = n + 1
	}
}

func none(int) bool { return false }

// jobs lists every job page and fetches detail only for new jobs or a
// changed "Last Modified Date Timestamp".
func (r *runner) jobs(ctx context.Context) error {
	return scanList(ctx, r, schema.TableJobs, r.db.JobStates, r.c.JobsPage, applicantstack.ResourceJob, r.job,
		func(b *warehouse.Batch, it item[schema.Job]) { it.addTo(b, &b.Jobs, &b.ScannedJobs, &b.SeenJobs) })
}

// scanList is the phase that scans table (jobs, hires): it loads the
// warehouse's states of the account's rows, drops the record of an earlier
// unfinished scan, and lists every page of the resource through its own
// writer: each page's list rows become items through conv (given the
// states), concurrently at the account's concurrency, added to the page's
// batch by add; records the page could not parse are quarantined,
// sensitive fields removed. A scan that read every page ends with endScan.
func scanList[R, T, S any](ctx context.Context, r *runner, table string,
	states func(ctx context.Context, account string) (S, error),
	fetch func(context.Context, int) (*applicantstack.Page[R], error), resource string,
	conv func(context.Context, R, S) (item[T], error), add func(*warehouse.Batch, item[T])) error {
	r.enter(table)
	st, err := states(ctx, r.a.Subdomain)
	if err != nil {
		return err
	}
	if err := r.db.EndScan(ctx, r.a.Subdomain, table, false, r.seenAt); err != nil {
		return err
	}
	w := r.newWriter("", scanState{})
	go w.run(ctx)
	_, err = listAll(ctx, r, fetch, none, func(ctx context.Context, p *applicantstack.Page[R]) error {
		b := r.batch()
		for _, rec := range p.Rejected {
			b.Rejected = append(b.Rejected, r.reject(resource, rec.Serial, applicantstack.StripSensitive(rec.Raw), rec.Err))
		}
		out := make([]item[T], len(p.Records))
		err := r.each(ctx, len(p.Records), func(ctx context.Context, i int) (err error) {
			out[i], err = conv(ctx, p.Records[i], st)
			return err
		})
		if err != nil {
			return err
		}
		for _, it := range out {
			add(b, it)
		}
		return w.send(ctx, b, 0)
	})
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return r.endScan(ctx, table)
}

// item is what one list row turns into: a row to write, a serial seen
// unchanged (revived when it was marked deleted), a quarantined record, or
// nothing (gone since the list).
type item[T any] struct {
	row      *T
	seen     string
	revive   bool
	rejected *schema.Rejected
}

func (it item[T]) addTo(b *warehouse.Batch, rows *[]T, scanned, revived *[]string) {
	switch {
	case it.row != nil:
		*rows = append(*rows, *it.row)
	case it.seen != "":
		*scanned = append(*scanned, it.seen)
		if it.revive {
			*revived = append(*revived, it.seen)
		}
	case it.rejected != nil:
		b.Rejected = append(b.Rejected, *it.rejected)
	}
}

func (r *runner) batch() *warehouse.Batch {
	return &warehouse.Batch{Account: r.a.Subdomain, RunID: r.run.RunID, At: r.seenAt}
}

// each runs fn for the indexes 0..n-1 concurrently, at the account's
// concurrency; the client's own cap still bounds requests in flight.
func (r *runner) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(r.a.Concurrency, 1))
	for i := range n {
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

// job decides what a job list row needs, fetching its detail when it is
// new or its Last Modified timestamp moved.
func (r *runner) job(ctx context.Context, j applicantstack.Job, states map[string]warehouse.JobState) (item[schema.Job], error) {
	r.prog.Records.Add(1)
	h := schema.RowHash(j.Raw)
	st, known := states[string(j.Serial)]
	updated := j.LastModifiedDateTimestamp.Time()
	needDetail := !known || r.mode == ModeFull || r.mode == ModeBackfill && st.RowHash == "" ||
		!updated.IsZero() && !updated.Equal(st.RemoteUpdatedAt) || updated.IsZero() && st.RowHash != h
	if known && !needDetail && st.RowHash == h {
		r.counts.rowsUnchanged.Add(1)
		return item[schema.Job]{seen: string(j.Serial), revive: st.Deleted}, nil
	}
	if needDetail {
		d, err := r.c.Job(ctx, string(j.Serial))
		if err != nil {
			rej, err := r.fetchFailed(applicantstack.ResourceJob, string(j.Serial), err)
			return item[schema.Job]{rejected: rej}, err
		}
		r.counts.details.Add(1)
		j = *d
	}
	row, err := r.m.MapJob(j)
	row.RowHash = h
	return mapped(r, applicantstack.ResourceJob, string(j.Serial), j.Raw, known, row, err), nil
}

// fetchFailed sorts the error of a detail fetch of one record of resource:
// a record the API sent but that could not be parsed is quarantined (rej,
// its sensitive fields removed); one deleted since the list was read (404)
// is neither rejected nor an error (the next full scan marks it deleted);
// any other error is returned, naming the record.
func (r *runner) fetchFailed(resource, serial string, err error) (rej *schema.Rejected, _ error) {
	var re *applicantstack.RecordError
	switch {
	case errors.As(err, &re):
		rejected := r.reject(resource, re.Serial, applicantstack.StripSensitive(re.Raw), re.Err)
		return &rejected, nil
	case errors.Is(err, applicantstack.ErrNotFound):
		return nil, nil
	}
	return nil, fmt.Errorf("%s %s: %w", resource, serial, err)
}

// mapped is the item of a record of resource that the mapper turned into
// row, counted as new or changed (known), or, when mapping failed (err),
// the record (raw) quarantined.
func mapped[T any](r *runner, resource, serial string, raw []byte, known bool, row T, err error) item[T] {
	if err != nil {
		rej := r.reject(resource, serial, raw, err)
		return item[T]{rejected: &rej}
	}
	if known {
		r.counts.rowsChanged.Add(1)
	} else {
		r.counts.rowsNew.Add(1)
	}
	return item[T]{row: &row}
}

// endScan closes the scan of a resource: after a complete scan, rows it
// did not see are marked deleted and rows it saw that were deleted come
// back; either way its record of what it saw is dropped.
func (r *runner) endScan(ctx context.Context, resource string) error {
	complete := r.mode != ModeTail
	if complete && !(resource == resourceCandidates && r.holdDeletions) {
		if err := r.markDeleted(ctx, resource); err != nil {
			return err
		}
	}
	return r.db.EndScan(ctx, r.a.Subdomain, resource, complete, r.seenAt)
}

func (r *runner) markDeleted(ctx context.Context, resource string) error {
	if r.mode == ModeTail {
		return nil
	}
	n, err := r.db.MarkDeleted(ctx, r.a.Subdomain, resource, r.run.StartedAt, r.s.Now().UTC())
	if err != nil {
		return fmt.Errorf("mark deleted %s: %w", resource, err)
	}
	if n > 0 {
		r.counts.rowsDeleted.Add(n)
		r.log.Info("records deleted upstream", slog.String("resource", resource), slog.Int64("count", n))
	}
	return nil
}

// hires syncs the onboarding module. An account without it answers 401 or
// 404 under /o/api: that is a warning, not a failed run.
func (r *runner) hires(ctx context.Context) error {
	err := scanList(ctx, r, schema.TableHires, r.db.HireStates, r.c.HiresPage, applicantstack.ResourceHire, r.hire,
		func(b *warehouse.Batch, it item[schema.Hire]) { it.addTo(b, &b.Hires, &b.ScannedHires, &b.SeenHires) })
	if errors.Is(err, applicantstack.ErrNotFound) || errors.Is(err, applicantstack.ErrUnauthorized) {
		r.log.Warn("hires skipped: the onboarding module (/o/api) is not enabled for this account; set hires: false to silence this",
			slog.String(keyError, err.Error()))
		return nil
	}
	return err
}

// hire fetches the detail of a new or changed hire list row.
func (r *runner) hire(ctx context.Context, h applicantstack.Hire, states map[string]string) (item[schema.Hire], error) {
	r.prog.Records.Add(1)
	hash := schema.RowHash(h.Raw)
	old, known := states[string(h.Serial)]
	if known && old == hash && r.mode != ModeFull {
		r.counts.rowsUnchanged.Add(1)
		return item[schema.Hire]{seen: string(h.Serial)}, nil
	}
	d, err := r.c.Hire(ctx, string(h.Serial))
	if err != nil {
		rej, err := r.fetchFailed(applicantstack.ResourceHire, string(h.Serial), err)
		return item[schema.Hire]{rejected: rej}, err
	}
	r.counts.details.Add(1)
	row, err := r.m.MapHire(*d)
	row.RowHash = hash
	return mapped(r, applicantstack.ResourceHire, string(h.Serial), d.Raw, known, row, err), nil
}
