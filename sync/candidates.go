package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	stdsync "sync"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse"
)

const resourceCandidates = "candidates"

// candidates scans the candidate list (the whole list, or its last pages
// for a tail pass), then fetches detail for every row whose list hash
// differs from the hash its detail was fetched at, active applications and
// newest first. Scan progress is checkpointed with the rows, so a killed run
// resumes where it stopped.
func (r *runner) candidates(ctx context.Context) error {
	r.enter("candidate states")
	states, err := r.db.CandidateStates(ctx, r.a.Subdomain)
	if err != nil {
		return err
	}
	r.cstates = states
	state := scanState{ScanStarted: r.run.StartedAt}
	if r.mode != ModeTail {
		cp, err := r.db.Checkpoint(ctx, r.a.Subdomain, resourceCandidates)
		if err != nil {
			return err
		}
		if cp != nil && json.Unmarshal(cp.State, &state) == nil && !state.ScanStarted.IsZero() {
			r.run.StartedAt = state.ScanStarted // deletions count from the scan's real start
			r.log.Info("resuming an interrupted scan", slog.String("from_run", cp.RunID),
				slog.Int("pages_done", len(state.Done)))
		} else {
			state = scanState{ScanStarted: r.run.StartedAt}
			// A fresh scan: forget what an abandoned one saw.
			if err := r.db.EndScan(ctx, r.a.Subdomain, resourceCandidates, false, r.seenAt); err != nil {
				return err
			}
		}
	}
	checkpoint := resourceCandidates
	if r.mode == ModeTail {
		checkpoint = "" // a tail pass keeps no checkpoint
	}
	r.w = r.newWriter(checkpoint, state)
	go r.w.run(ctx)
	r.enter("candidates")
	err = r.scan(ctx, state)
	if err == nil {
		r.enter("merge")
		err = r.w.flushMerge(ctx) // details are chosen from the merged rows
	}
	if err == nil {
		err = r.details(ctx)
	}
	if cerr := r.w.close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.filesPending(ctx)
	}
	if err != nil {
		return err
	}
	if r.mode != ModeTail {
		if err := r.verifyVanished(ctx); err != nil {
			return err
		}
		r.enter("mark deleted")
		if err := r.endScan(ctx, resourceCandidates); err != nil {
			return err
		}
		if err := r.db.ClearCheckpoint(ctx, r.a.Subdomain, resourceCandidates); err != nil {
			return err
		}
	}
	r.run.CompleteScan = r.mode != ModeTail
	return nil
}

// scan reads the list pages and writes new and changed rows; unchanged rows
// are only marked seen.
func (r *runner) scan(ctx context.Context, state scanState) error {
	done := func(p int) bool { _, ok := slices.BinarySearch(state.Done, p); return ok }
	if r.mode == ModeTail {
		// The tail needs NumPages from page 1 first; it is cheap and its
		// rows are the oldest, so only the last pages are processed.
		p1, err := r.candidateRowsPage(ctx, 1)
		if err != nil {
			return fmt.Errorf("candidate page 1: %w", err)
		}
		r.counts.pages.Add(1)
		from := max(p1.NumPages-max(r.s.TailPages, 1)+1, 1)
		if from == 1 {
			if err := r.scanPage(ctx, p1); err != nil {
				return err
			}
			from = 2
		}
		r.prog.PagesTotal.Store(int64(p1.NumPages - from + 1))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(max(r.a.Concurrency, 1))
		for page := from; page <= p1.NumPages; page++ {
			g.Go(func() error {
				p, err := r.candidateRowsPage(gctx, page)
				if err != nil {
					return fmt.Errorf("candidate page %d: %w", page, err)
				}
				r.counts.pages.Add(1)
				r.prog.PagesDone.Add(1)
				return r.scanPage(gctx, p)
			})
		}
		return g.Wait()
	}
	_, err := listAll(ctx, r, r.candidateRowsPage, done, r.scanPage)
	if err != nil {
		return fmt.Errorf("candidate %w", err)
	}
	return nil
}

func (r *runner) candidateRowsPage(ctx context.Context, n int) (*applicantstack.Page[applicantstack.CandidateRow], error) {
	return r.c.CandidateRowsPage(ctx, n, schema.RowHash)
}

// scanPage compares a page's rows with what the warehouse holds and sends
// the differences, with the page number for the checkpoint.
func (r *runner) scanPage(ctx context.Context, p *applicantstack.Page[applicantstack.CandidateRow]) error {
	b := &warehouse.Batch{Account: r.a.Subdomain, RunID: r.run.RunID, At: r.seenAt}
	for i := range p.Records {
		lr := &p.Records[i]
		h := lr.ReceivedHash
		serial := lr.Serial
		st, known := r.cstates.Get(serial)
		unchanged := known && st.RowHash == h && r.mode != ModeFull
		var c applicantstack.Candidate
		if !unchanged {
			// Only a row that may have changed is sanitized, hashed as
			// stored and decoded. A row's hash before Sanitize that matches
			// the stored one says it is unchanged: what is stored is
			// sanitized, and a row equal to it has nothing to remove. Its
			// serial may differ from the one read without decoding (Serial
			// is a guess).
			if !lr.AsReceived() {
				h = schema.RowHash(lr.Raw())
			}
			var rerr *applicantstack.RecordError
			if c, rerr = lr.Decode(); rerr != nil {
				b.Rejected = append(b.Rejected, r.reject(applicantstack.ResourceCandidate, rerr.Serial, rerr.Raw, rerr.Err))
				continue
			}
			if string(c.Serial) != serial {
				serial = string(c.Serial)
				st, known = r.cstates.Get(serial)
			}
			unchanged = known && st.RowHash == h && r.mode != ModeFull
		}
		r.prog.Records.Add(1)
		if unchanged {
			r.counts.rowsUnchanged.Add(1)
			if r.mode != ModeTail { // only a complete scan checks deletions
				b.ScannedCandidates = append(b.ScannedCandidates, serial)
			}
			if st.Deleted {
				b.SeenCandidates = append(b.SeenCandidates, serial) // it came back
			}
			continue
		}
		row, err := r.m.MapCandidateRow(c, h) // h is the hash of the sanitized row, c.Raw
		if err != nil {
			b.Rejected = append(b.Rejected, r.reject(applicantstack.ResourceCandidate, string(c.Serial), c.Raw, err))
			continue
		}
		if r.mode == ModeFull {
			row.DetailHash = "-" // anything but h: forces a detail fetch
		}
		if known {
			r.counts.rowsChanged.Add(1)
		} else {
			r.counts.rowsNew.Add(1)
		}
		b.Candidates = append(b.Candidates, row)
	}
	return r.w.send(ctx, b, p.Number)
}

// details fetches candidate detail for every row that needs it, a chunk at
// a time in the warehouse's priority order (active first, newest first).
func (r *runner) details(ctx context.Context) error {
	r.enter("details")
	var known map[string]string
	if r.files != nil {
		var err error
		if r.mode == ModeTail {
			known, err = r.db.AttachmentSHA(ctx, r.a.Subdomain)
		} else {
			known, err = r.planFiles(ctx) // blobs checked, pending files planned
		}
		if err != nil {
			return err
		}
	}
	skip := map[string]bool{} // failed or vanished this run: not retried until the next
	var knownMu stdsync.Mutex
	for {
		pending, err := r.db.PendingDetailHashes(ctx, r.a.Subdomain, r.s.DetailChunk+len(skip))
		if err != nil {
			return err
		}
		pending = slices.DeleteFunc(pending, func(p warehouse.PendingDetail) bool { return skip[p.Serial] })
		if len(pending) == 0 {
			return r.refetchFiles(ctx, known, &knownMu)
		}
		r.prog.DetailsTotal.Add(int64(len(pending)))
		var skipMu stdsync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		work := make(chan warehouse.PendingDetail)
		for range min(max(r.a.Concurrency, 1), len(pending)) {
			// Workers rather than a goroutine a detail: a worker's stack
			// grows once to what decoding a detail takes.
			g.Go(func() error {
				for p := range work {
					ok, err := r.detail(gctx, p, known, &knownMu)
					r.fileRun.detailRead(p.Serial)
					if !ok {
						skipMu.Lock()
						skip[p.Serial] = true
						skipMu.Unlock()
					}
					r.prog.DetailsDone.Add(1)
					if err != nil {
						return err
					}
				}
				return nil
			})
		}
	feed:
		for _, p := range pending {
			select {
			case work <- p:
			case <-gctx.Done():
				break feed
			}
		}
		close(work)
		if err := g.Wait(); err != nil {
			return err
		}
		if err := r.w.flush(ctx); err != nil {
			return err
		}
	}
}

// detail fetches one candidate's detail, rebuilds its stage history,
// downloads its new files and sends it all to the writer. It reports false
// when the candidate could not be written (gone or quarantined).
func (r *runner) detail(ctx context.Context, p warehouse.PendingDetail, known map[string]string, knownMu *stdsync.Mutex) (bool, error) {
	serial := p.Serial
	b := &warehouse.Batch{Account: r.a.Subdomain, RunID: r.run.RunID, At: r.seenAt}
	cd, err := r.c.Candidate(ctx, serial)
	if err != nil {
		rej, err := r.fetchFailed(applicantstack.ResourceCandidate, serial, err)
		if rej == nil {
			return false, err
		}
		b.Rejected = append(b.Rejected, *rej)
		return false, r.w.send(ctx, b, 0)
	}
	if p.RowHash == "" {
		return false, nil // no list row hash to answer: leave it pending
	}
	return r.writeDetail(ctx, cd, p.RowHash, known, knownMu)
}

// writeDetail maps a candidate's detail (row, stage history, files) and
// sends it to the writer; h is the list hash the detail answers.
func (r *runner) writeDetail(ctx context.Context, cd *applicantstack.Candidate, h string, known map[string]string, knownMu *stdsync.Mutex) (bool, error) {
	serial := string(cd.Serial)
	b := &warehouse.Batch{Account: r.a.Subdomain, RunID: r.run.RunID, At: r.seenAt}
	r.counts.details.Add(1)
	row, err := r.m.MapCandidateDetail(*cd, h)
	if err != nil {
		b.Rejected = append(b.Rejected, r.reject(applicantstack.ResourceCandidate, serial, cd.Raw, err))
		return false, r.w.send(ctx, b, 0)
	}
	b.Candidates = append(b.Candidates, row)
	b.StageEvents = r.stageHistory(cd, row)
	for _, f := range cd.Files {
		att, err := r.m.MapAttachment(*cd, f)
		if err != nil {
			b.Rejected = append(b.Rejected, r.reject("attachment", serial, nil, err))
			continue
		}
		att.FirstSeenAt, att.LastSeenAt = r.seenAt, r.seenAt
		if r.files != nil {
			knownMu.Lock()
			_, have := known[att.AttachmentID]
			knownMu.Unlock()
			if !have {
				if err := r.download(ctx, string(f.URL), &att); err != nil {
					var se *storeError
					switch {
					case ctx.Err() != nil:
						return false, ctx.Err()
					case errors.As(err, &se):
						return false, err // the disk, not the file: fail the run
					case errors.Is(err, errFilesStopped):
					case applicantstack.IsTemporary(err):
						r.log.Warn("attachment left pending for the next run", slog.String("attachment", att.AttachmentID),
							slog.String(keyError, err.Error()))
					default:
						att.DownloadedAt = r.s.Now().UTC() // tried and refused: not pending
						b.Rejected = append(b.Rejected, r.reject("attachment", att.AttachmentID, nil, err))
					}
				} else {
					knownMu.Lock()
					known[att.AttachmentID] = att.SHA256
					knownMu.Unlock()
				}
			}
		}
		b.Attachments = append(b.Attachments, att)
	}
	return true, r.w.send(ctx, b, 0)
}

// stageHistory returns the stage events of a candidate's notes plus an
// "observed" event when the current stage is not the last one the notes
// record: a change made without a note, seen between runs (or, for a
// candidate seen for the first time, the stage it entered on applying).
func (r *runner) stageHistory(cd *applicantstack.Candidate, row schema.Candidate) []schema.StageEvent {
	events := r.m.StageEvents(*cd)
	for _, n := range cd.Notes {
		if n.Timestamp != 0 && applicantstack.IsApplicationNote(string(n.Text)) {
			funnel, _ := r.m.Funnel.Map(r.a.InitialStage, "")
			events = append(events, schema.StageEvent{
				AccountID: row.AccountID, CandidateID: row.CandidateID, JobID: row.JobID,
				Stage: r.a.InitialStage, FunnelStage: funnel, ChangedAt: n.Timestamp.Time(),
				ChangedBy: "System", Origin: schema.OriginNote,
			})
			break
		}
	}
	last := ""
	var lastAt = row.AppliedAt
	for _, e := range events {
		if !e.ChangedAt.Before(lastAt) || last == "" {
			last, lastAt = e.Stage, e.ChangedAt
		}
	}
	if row.Stage == "" || (last != "" && strings.EqualFold(last, row.Stage)) {
		return events
	}
	prev, ok := r.cstates.Get(row.CandidateID)
	known := ok && prev.DetailHash != "" // its detail was read by an earlier run
	at := r.seenAt
	switch {
	case known && strings.EqualFold(prev.Stage, row.Stage):
		return events // unchanged since the last run; observed then if at all
	case !known && len(events) == 0:
		at = row.AppliedAt // first sight, no history: the stage it applied into
	}
	if at.IsZero() {
		at = r.seenAt
	}
	return append(events, schema.StageEvent{
		AccountID: row.AccountID, CandidateID: row.CandidateID, JobID: row.JobID,
		Stage: row.Stage, FunnelStage: row.FunnelStage, ChangedAt: at, Origin: schema.OriginObserved,
	})
}

// verifyVanished asks for the detail of each candidate a complete scan did
// not see, at the account's concurrency and rate limit. Pages are read
// concurrently, so a deletion upstream during the scan can shift a row onto
// a page already read; such a row answers its detail and is kept. Only a
// 404 lets it be marked deleted.
//
// A large drop is when the API may be misbehaving (a permission change, a
// truncated account): when more than max_deletion_share of the account's
// live candidates are missing, nothing is checked or marked deleted (the
// run warns and records it); `sync -allow-mass-deletion` raises the share
// to 1 for one run.
func (r *runner) verifyVanished(ctx context.Context) error {
	r.enter("deletions")
	vanished, err := r.db.Vanished(ctx, r.a.Subdomain, r.run.StartedAt)
	if err != nil || len(vanished) == 0 {
		return err
	}
	live := 0
	for _, st := range r.cstates.All() {
		if !st.Deleted {
			live++
		}
	}
	if share := r.s.Config.MaxDeletionShare; float64(len(vanished)) > share*float64(live) {
		r.holdDeletions = true
		r.warn(fmt.Sprintf("deletions held back: %d of %d candidates are missing from a complete scan, more than max_deletion_share (%g); "+
			"none was marked deleted. If they were deleted upstream, run `stackhouse sync -allow-mass-deletion` once",
			len(vanished), live, share))
		return nil
	}
	var mu stdsync.Mutex
	b := &warehouse.Batch{Account: r.a.Subdomain, RunID: r.run.RunID, At: r.seenAt}
	err = r.each(ctx, len(vanished), func(ctx context.Context, i int) error {
		serial := vanished[i]
		_, err := r.c.Candidate(ctx, serial)
		switch {
		case errors.Is(err, applicantstack.ErrNotFound):
		case err != nil:
			return fmt.Errorf("deletion check %s: %w", serial, err)
		default:
			r.log.Info("candidate missed by the scan is still there", slog.String("candidate", serial))
			mu.Lock()
			b.SeenCandidates = append(b.SeenCandidates, serial)
			mu.Unlock()
		}
		return nil
	})
	if err != nil || len(b.SeenCandidates) == 0 {
		return err
	}
	return r.db.Write(ctx, b)
}
