package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// Batch is what the sync engine commits at once: rows of one account seen
// at At, and optionally the run's progress.
type Batch struct {
	Account string
	RunID   string
	At      time.Time // when these rows were seen: first_seen_at of new rows, last_seen_at of all

	Jobs        []schema.Job
	Candidates  []schema.Candidate
	Hires       []schema.Hire
	Attachments []schema.Attachment

	// Serials seen unchanged: their last_seen_at moves to At and a
	// remote_deleted_at is cleared (the record came back).
	SeenJobs, SeenCandidates, SeenHires []string

	StageEvents []schema.StageEvent // an event already stored (same key) is ignored
	Rejected    []schema.Rejected

	Checkpoint *Checkpoint // upserted in the same transaction; nil leaves it as is
}

// Checkpoint is the progress of an unfinished run over one resource.
type Checkpoint struct {
	Account, Resource, RunID, Mode string
	State                          json.RawMessage
	UpdatedAt                      time.Time
}

// Write commits b in one transaction: all of it or, on error, none of it.
//
// Rows are upserted by key. A new row gets first_seen_at = last_seen_at =
// b.At; an existing one keeps first_seen_at, takes the new values, moves
// last_seen_at forward to b.At and has remote_deleted_at cleared. Empty
// bookkeeping fields leave the stored value: Candidate.RowHash, DetailHash,
// Job.Description and RowHash, any RemoteData, and an Attachment's download
// fields while DownloadedAt is zero. Every other empty field is stored as
// NULL. Within the batch, the last row with a given key wins.
//
// For the candidates touched (written, or named by a stage event) Write then
// derives hired_at and rejected_at (the earliest stage event whose
// funnel_stage is hired, respectively rejected or withdrawn; NULL when there
// is none) and last_changed_at (the latest of: b.At when the row hash
// changed, the latest stage event, applied_at).
//
// Writing the same batch twice leaves the tables as after the first write.
// A zero b.At means now, which makes a repeated write move last_seen_at.
func (db *DB) Write(ctx context.Context, b *Batch) error {
	if b.Account == "" {
		return errors.New("warehouse: batch has no account")
	}
	at := b.At.UTC()
	if b.At.IsZero() {
		at = time.Now().UTC()
	}
	if err := b.checkAccounts(); err != nil {
		return err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()

	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write %s: %w", b.Account, err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write %s: %w", b.Account, err)
	}
	defer tx.Rollback()
	w := writer{ctx: ctx, conn: conn, tx: tx, account: b.Account, at: at}
	steps := []struct {
		name string
		run  func(*Batch) error
	}{
		{"jobs", w.jobs},
		{"candidates", w.candidates},
		{"hires", w.hires},
		{"attachments", w.attachments},
		{"seen", w.seen},
		{"stage events", w.stageEvents},
		{"rejected records", w.rejected},
		{"derived candidate columns", w.derive},
		{"checkpoint", w.checkpoint},
	}
	for _, s := range steps {
		if err := s.run(b); err != nil {
			return fmt.Errorf("write %s %s: %w", b.Account, s.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write %s: commit: %w", b.Account, err)
	}
	return nil
}

// checkAccounts refuses rows that name another account than the batch.
func (b *Batch) checkAccounts() error {
	check := func(kind, id, account string) error {
		if account != "" && account != b.Account {
			return fmt.Errorf("warehouse: %s %s of account %q in a batch of %q", kind, id, account, b.Account)
		}
		return nil
	}
	var errs []error
	for _, r := range b.Jobs {
		errs = append(errs, check("job", r.JobID, r.AccountID))
	}
	for _, r := range b.Candidates {
		errs = append(errs, check("candidate", r.CandidateID, r.AccountID))
	}
	for _, r := range b.Hires {
		errs = append(errs, check("hire", r.HireID, r.AccountID))
	}
	for _, r := range b.Attachments {
		errs = append(errs, check("attachment", r.AttachmentID, r.AccountID))
	}
	for _, r := range b.StageEvents {
		errs = append(errs, check("stage event of", r.CandidateID, r.AccountID))
	}
	if c := b.Checkpoint; c != nil {
		errs = append(errs, check("checkpoint", c.Resource, c.Account))
	}
	return errors.Join(errs...)
}
