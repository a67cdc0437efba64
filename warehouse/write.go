package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
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

	// Serials a scan saw unchanged. Nothing about their rows changes: they
	// are recorded, with the checkpoint, for the scan's deletion check
	// (MarkDeleted spares them) until EndScan. An unchanged account thus
	// costs no write to its tables.
	ScannedJobs, ScannedCandidates, ScannedHires []string

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
//
// Write lands b in tables private to its transaction and merges them at
// once; rows the account has in the shared landing (Land) stay there until
// its next Merge. The sync engine lands instead (Land, then Merge).
func (db *DB) Write(ctx context.Context, b *Batch) error {
	return db.inTx(ctx, b, func(w *tx) error {
		g := target{temp: true}
		if err := w.prepareTemp(); err != nil {
			return err
		}
		if err := w.land(g, b); err != nil {
			return err
		}
		_, err := w.merge(g)
		return err
	})
}

// Land appends b to the account's landing tables and commits it with its
// checkpoint in one transaction: all of it or none of it. It costs the
// rows of b, whatever the size of the tables: nothing is read or updated.
// The rows reach the synced tables, by Write's rules and in the order they
// were landed, at the account's next Merge; until then readers of the
// synced tables do not see them. Rejected records, the checkpoint and the
// Scanned serials are stored at once.
func (db *DB) Land(ctx context.Context, b *Batch) error {
	return db.inTx(ctx, b, func(w *tx) error { return w.land(target{}, b) })
}

// Merge merges every row the account has landed into the synced tables
// (see Write for the rules), derives the touched candidates' columns, and
// empties the account's landing; then it rebuilds the stage_stints of the
// applications its slices (or an interrupted earlier Merge) stored stage
// events of. Its cost follows the rows landed. It
// returns how many rows it wrote per table.
//
// The landed rows are merged in landing order, in slices of about
// MergeBytes each (by default mergeBudget of DuckDB's memory_limit), one
// transaction a slice: DuckDB holds a transaction's uncommitted rows in
// memory, so one transaction over a large backfill would exceed the limit.
// Merging slices in order gives the rows one merge would; a merge
// interrupted between slices is finished by the next.
func (db *DB) Merge(ctx context.Context, account string) (map[string]int64, error) {
	bounds, err := db.mergeSlices(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("merge %s: %w", account, err)
	}
	changed := merged{}
	for _, upTo := range bounds {
		err := db.inTx(ctx, &Batch{Account: account}, func(w *tx) error {
			n, err := w.merge(target{upTo: upTo})
			for t, c := range n {
				changed[t] += c
			}
			return err
		})
		if err != nil {
			return changed, err
		}
	}
	// The stints of the applications the slices stored stage events of, in
	// one statement: also those a merge interrupted after its slices left
	// queued.
	var queued int64
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM `+landSchema+`.stints_pending WHERE account_id = $1`,
		account).Scan(&queued); err != nil {
		return changed, fmt.Errorf("merge %s: stage stints: %w", account, err)
	}
	if queued > 0 {
		err := db.inTx(ctx, &Batch{Account: account}, func(w *tx) error {
			n, err := w.pendingStints()
			changed[schema.TableStageStints] += n
			return err
		})
		if err != nil {
			return changed, fmt.Errorf("merge %s: stage stints: %w", account, err)
		}
	}
	if len(bounds) > 0 {
		db.checkpointAfterMerge(ctx)
		db.saveStatus(ctx, progressStatusEvery) // a backfill's counts move at each merge
	}
	return changed, nil
}

// checkpointAfterMerge checkpoints when the WAL has grown past
// mergeCheckpointWAL, now that the merged landing rows are deleted (see
// DefaultCheckpointThreshold). It is best effort: a checkpoint refused
// because another connection's transaction is open (a publish exporting)
// is left to the next one.
func (db *DB) checkpointAfterMerge(ctx context.Context) {
	if db.path == "" {
		return
	}
	if info, err := os.Stat(db.path + ".wal"); err != nil || info.Size() < mergeCheckpointWAL {
		return
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	db.sql.ExecContext(ctx, `CHECKPOINT`)
}

// mergeSlices returns the upper _seq bounds of the slices the account's
// landed rows are merged in.
func (db *DB) mergeSlices(ctx context.Context, account string) ([]int64, error) {
	budget := db.MergeBytes
	if budget <= 0 {
		budget = mergeBudget(db.memoryLimit(ctx))
	}
	var parts []string
	for _, name := range landedNames() {
		weight := `256`
		if name != "seen" && name != schema.TableStageEvents {
			weight = `256 + coalesce(strlen(remote_data), 0)`
		}
		parts = append(parts, `SELECT _seq, `+weight+` AS w FROM `+landSchema+`.land_`+name+` WHERE account_id = $1`)
	}
	return values[int64](ctx, db.sql, `SELECT max(_seq) FROM (
			SELECT _seq, (sum(w) OVER (ORDER BY _seq ROWS UNBOUNDED PRECEDING) - 1) // $2 AS slice
			FROM (`+strings.Join(parts, ` UNION ALL `)+`))
		GROUP BY slice ORDER BY 1`, account, max(budget, 1<<20))
}

// mergeBudget is the landed bytes one merge transaction takes under a
// memory_limit of limit bytes: half the limit less 32 MiB, and at least a
// sixteenth of it. A slice's inserted rows stay in memory until they fill a
// row group, beside a fixed cost of about 30 MB: 60,000 rows of 4 KB, each
// with a stage event (and its row in stints_pending), merge under 64MB in
// slices of 4 MiB and fail in slices of 8 MiB (which passed before
// stints_pending), and merge under 80MB, 96MB and 128MB in slices of this
// size (TestDB_Merge_memoryLimit).
// Fewer, larger slices scan the large tables fewer times (at 1M
// applications under 512MB, 19 slices instead of 73), and a slice of more
// than a row group of candidates is written to the file in bulk (see
// derive).
func mergeBudget(limit int64) int64 {
	return max(limit/16, limit/2-32<<20)
}

// memoryLimit returns DuckDB's memory_limit in bytes (1 GiB if it cannot
// tell).
func (db *DB) memoryLimit(ctx context.Context) int64 {
	var s string
	if err := db.sql.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&s); err == nil {
		if b, ok := parseSize(s); ok {
			return b
		}
	}
	return 1 << 30
}

// parseSize reads DuckDB's rendering of a size ("488.2 MiB", "1.5 GiB").
func parseSize(s string) (int64, bool) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), " ")
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"bytes": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]
	if mult == 0 {
		return 0, false
	}
	return int64(f * mult), true
}

// Landed returns how many rows of each table the account has landed and
// not merged yet.
func (db *DB) Landed(ctx context.Context, account string) (map[string]int64, error) {
	landed := make(map[string]int64)
	for _, name := range landedNames() {
		var n int64
		if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM `+landSchema+`.land_`+name+
			` WHERE account_id = ?`, account).Scan(&n); err != nil {
			return nil, fmt.Errorf("landed %s: %w", account, err)
		}
		if n > 0 {
			landed[name] = n
		}
	}
	return landed, nil
}

// inTx runs fn in one write transaction for b's account.
func (db *DB) inTx(ctx context.Context, b *Batch, fn func(*tx) error) error {
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
	return db.inTxLocked(ctx, b.Account, func(w *tx) error {
		w.at = at
		return fn(w)
	})
}

// inTxLocked runs fn in one transaction for account; the caller holds
// writeMu.
func (db *DB) inTxLocked(ctx context.Context, account string, fn func(*tx) error) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write %s: %w", account, err)
	}
	defer conn.Close()
	t, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write %s: %w", account, err)
	}
	defer t.Rollback()
	w := &tx{ctx: ctx, conn: conn, tx: t, account: account, at: time.Now().UTC(), seq: func() int64 { return db.seq.Add(1) }}
	if err := fn(w); err != nil {
		return fmt.Errorf("write %s: %w", account, err)
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("write %s: commit: %w", account, err)
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
