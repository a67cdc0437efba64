package sync

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"time"

	"github.com/stackhouse/stackhouse/warehouse"
)

// DefaultBatchRows is how many rows the writer gathers before committing.
// Every commit costs a WAL flush, whatever its size, so batches are large;
// a serial a scan saw unchanged counts as a tenth of a row.
const DefaultBatchRows = 10_000

// DefaultMergeRows is how many landed rows make the writer merge them into
// the synced tables before its close. The threshold then grows with the
// rows merged so far, so that a backfill's merges cost O(rows) in all.
const DefaultMergeRows = 250_000

// work is one unit for the writer: rows of one account, optionally the page
// they came from (recorded in the checkpoint in the same transaction), or a
// flush barrier.
type work struct {
	batch *warehouse.Batch
	// page, when > 0, is a candidate list page whose rows are all in batch.
	page int
	// pages are the pages of a gathered batch (see writer.run).
	pages []int
	flush chan error // non-nil: commit what is pending and report
	merge bool       // with flush: merge what is landed too
}

// scanState is the checkpoint of a candidate scan: which pages are in the
// warehouse, so a killed run resumes without refetching them.
type scanState struct {
	ScanStarted time.Time `json:"scan_started"`
	Done        []int     `json:"done"` // sorted page numbers
}

// writer is the single goroutine that writes one account's rows. Pages
// arrive in any order over a channel; rows are gathered into batches of
// about BatchRows and landed (warehouse.DB.Land) with the scan's checkpoint
// in one transaction. Landed rows are merged into the synced tables when
// enough have gathered, when a flush asks for it, and at close.
type writer struct {
	db        *warehouse.DB
	account   string
	runID     string
	mode      string
	batchRows int
	mergeRows int
	in        chan work
	done      chan error
	state     scanState
	// resource is the checkpoint the writer keeps with its batches; ""
	// keeps none (jobs, hires, a tail pass, a refresh).
	resource string
	landed   int   // rows landed since the last merge
	merged   int64 // rows merged so far
	stats    *writeStats
	// publish, when set, is called every publishEvery of a long run, after
	// merging what is landed, so that readers see a backfill's rows before
	// it ends (see Syncer.PublishEvery).
	publish      func(context.Context)
	publishEvery time.Duration
	published    time.Time
	// onLand, when set, is called after each batch is landed: the run
	// records its progress, so a killed run's counts are not lost.
	onLand func(context.Context)
}

// writeStats is where a run's writers add up the time they spend in the
// warehouse, for the run's log line.
type writeStats struct {
	land, merge    atomic.Int64 // nanoseconds
	merges, landed atomic.Int64
}

// newWriter returns a writer of account's rows; resource names the scan
// checkpoint it keeps (state is where the scan stands), or "" for none.
func newWriter(db *warehouse.DB, account, runID, mode, resource string, state scanState, batchRows int) *writer {
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	state.Done = slices.Clone(state.Done) // the scan reads its own copy while the writer adds pages
	return &writer{
		db: db, account: account, runID: runID, mode: mode, state: state,
		batchRows: batchRows, mergeRows: DefaultMergeRows, resource: resource,
		in: make(chan work, 64), done: make(chan error, 1),
	}
}

// mergeLanded merges what the writer has landed.
func (w *writer) mergeLanded(ctx context.Context) error {
	start := time.Now()
	n, err := w.db.Merge(ctx, w.account)
	if w.stats != nil {
		w.stats.merge.Add(int64(time.Since(start)))
		w.stats.merges.Add(1)
	}
	if err != nil {
		return err
	}
	for _, c := range n {
		w.merged += c
	}
	w.landed = 0
	return nil
}

// run consumes work until the input closes or ctx ends, then commits what
// is pending. Its error (the first failed commit) is reported on w.done.
//
// Two goroutines share the work: this one gathers rows into batches, and
// commit lands each full batch (and merges) in order. While a batch lands
// or a merge runs, the next batch gathers, so the fetchers that send to
// w.in wait only when a whole batch is ready before the previous one is
// written (one batch more in memory: the back-pressure stays).
func (w *writer) run(ctx context.Context) {
	full := make(chan work) // gathered batches and flushes, in order
	committed := make(chan error, 1)
	go func() { committed <- w.commit(ctx, full) }()
	var pending *warehouse.Batch
	var pages []int
	hand := func() {
		if pending != nil {
			full <- work{batch: pending, pages: pages}
			pending, pages = nil, nil
		}
	}
	for item := range w.in {
		if item.batch != nil {
			if pending == nil {
				pending = &warehouse.Batch{Account: w.account, RunID: w.runID, At: item.batch.At}
			}
			merge(pending, item.batch)
			if item.page > 0 {
				pages = append(pages, item.page)
			}
			if size(pending) >= w.batchRows {
				hand()
			}
		}
		if item.flush != nil {
			hand()
			full <- item
		}
	}
	hand()
	close(full)
	w.done <- <-committed
}

// commit lands the batches gathered by run, in order, with the scan's
// checkpoint, merges the landed rows when enough have gathered, and
// answers flushes. It returns the first error, after
// merging what is landed when there was none.
func (w *writer) commit(ctx context.Context, full <-chan work) error {
	var failed error
	for item := range full {
		if item.batch != nil && failed == nil {
			failed = w.land(ctx, item.batch, item.pages)
		}
		if item.flush != nil {
			if item.merge && failed == nil && w.landed > 0 {
				failed = w.mergeLanded(ctx)
			}
			item.flush <- failed
		}
	}
	if failed == nil && w.landed > 0 {
		failed = w.mergeLanded(ctx)
	}
	return failed
}

// land lands one gathered batch, with pages (the list pages whose rows are
// all in it) recorded in the scan's checkpoint, then merges or publishes
// when it is time.
func (w *writer) land(ctx context.Context, b *warehouse.Batch, pages []int) error {
	if len(pages) > 0 && w.resource != "" {
		for _, p := range pages {
			if i, found := slices.BinarySearch(w.state.Done, p); !found {
				w.state.Done = slices.Insert(w.state.Done, i, p)
			}
		}
		st, _ := json.Marshal(w.state)
		b.Checkpoint = &warehouse.Checkpoint{
			Account: w.account, Resource: w.resource, RunID: w.runID, Mode: w.mode,
			State: st, UpdatedAt: time.Now().UTC(),
		}
	}
	start := time.Now()
	err := w.db.Land(ctx, b)
	if err == nil && w.onLand != nil {
		w.onLand(ctx)
	}
	if w.stats != nil {
		w.stats.land.Add(int64(time.Since(start)))
		w.stats.landed.Add(int64(landedRows(b)))
	}
	if err != nil {
		return err
	}
	w.landed += landedRows(b)
	if w.landed >= max(w.mergeRows, int(w.merged)) {
		if err := w.mergeLanded(ctx); err != nil {
			return err
		}
	}
	if w.publish != nil && time.Since(w.published) >= w.publishEvery {
		if w.landed > 0 {
			if err := w.mergeLanded(ctx); err != nil {
				return err
			}
		}
		w.publish(ctx)
		w.published = time.Now()
	}
	return nil
}

// send queues rows for writing. It blocks when the writer is behind, which
// is the back-pressure that keeps memory flat.
func (w *writer) send(ctx context.Context, b *warehouse.Batch, page int) error {
	select {
	case w.in <- work{batch: b, page: page}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush lands everything queued so far and returns the writer's error.
func (w *writer) flush(ctx context.Context) error { return w.flushWith(ctx, false) }

// flushMerge lands everything queued so far and merges it: the synced
// tables then hold every row sent.
func (w *writer) flushMerge(ctx context.Context) error { return w.flushWith(ctx, true) }

func (w *writer) flushWith(ctx context.Context, merge bool) error {
	ch := make(chan error, 1)
	select {
	case w.in <- work{flush: ch, merge: merge}:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops the writer after landing and merging what is pending.
func (w *writer) close() error {
	close(w.in)
	return <-w.done
}

func merge(dst, src *warehouse.Batch) {
	if dst.At.IsZero() || src.At.After(dst.At) {
		dst.At = src.At
	}
	dst.Jobs = append(dst.Jobs, src.Jobs...)
	dst.Candidates = append(dst.Candidates, src.Candidates...)
	dst.Hires = append(dst.Hires, src.Hires...)
	dst.Attachments = append(dst.Attachments, src.Attachments...)
	dst.SeenJobs = append(dst.SeenJobs, src.SeenJobs...)
	dst.SeenCandidates = append(dst.SeenCandidates, src.SeenCandidates...)
	dst.SeenHires = append(dst.SeenHires, src.SeenHires...)
	dst.ScannedJobs = append(dst.ScannedJobs, src.ScannedJobs...)
	dst.ScannedCandidates = append(dst.ScannedCandidates, src.ScannedCandidates...)
	dst.ScannedHires = append(dst.ScannedHires, src.ScannedHires...)
	dst.StageEvents = append(dst.StageEvents, src.StageEvents...)
	dst.Rejected = append(dst.Rejected, src.Rejected...)
}

func size(b *warehouse.Batch) int {
	return landedRows(b) + (len(b.ScannedJobs)+len(b.ScannedCandidates)+len(b.ScannedHires))/10 + len(b.Rejected)
}

// landedRows counts the rows of b a merge has to apply.
func landedRows(b *warehouse.Batch) int {
	return len(b.Jobs) + len(b.Candidates) + len(b.Hires) + len(b.Attachments) +
		len(b.SeenJobs) + len(b.SeenCandidates) + len(b.SeenHires) + len(b.StageEvents)
}
