package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// JobState is what change detection needs of a stored job.
type JobState struct {
	RemoteUpdatedAt time.Time
	RowHash         string
	Deleted         bool
}

// JobStates returns the state of every job of account, keyed by Job Serial.
func (db *DB) JobStates(ctx context.Context, account string) (map[string]JobState, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT job_id, remote_updated_at, coalesce(row_hash, ''),
		remote_deleted_at IS NOT NULL FROM jobs WHERE account_id = ?`, account)
	if err != nil {
		return nil, fmt.Errorf("job states %s: %w", account, err)
	}
	defer rows.Close()
	states := make(map[string]JobState)
	for rows.Next() {
		var (
			id string
			s  JobState
			up sql.NullTime
		)
		if err := rows.Scan(&id, &up, &s.RowHash, &s.Deleted); err != nil {
			return nil, fmt.Errorf("job states %s: %w", account, err)
		}
		s.RemoteUpdatedAt = timeOf(up)
		states[id] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job states %s: %w", account, err)
	}
	return states, nil
}

// HireStates returns the row_hash of every hire of account, deleted ones
// included, keyed by Hire Serial.
func (db *DB) HireStates(ctx context.Context, account string) (map[string]string, error) {
	m, err := stringMap(ctx, db.sql, `SELECT hire_id, coalesce(row_hash, '') FROM hires WHERE account_id = ?`, account)
	if err != nil {
		return nil, fmt.Errorf("hire states %s: %w", account, err)
	}
	return m, nil
}

// AttachmentSHA returns attachment_id → sha256 of the files of account
// already downloaded, so a file is fetched once.
func (db *DB) AttachmentSHA(ctx context.Context, account string) (map[string]string, error) {
	m, err := stringMap(ctx, db.sql, `SELECT attachment_id, sha256 FROM attachments
		WHERE account_id = ? AND sha256 IS NOT NULL`, account)
	if err != nil {
		return nil, fmt.Errorf("attachment hashes %s: %w", account, err)
	}
	return m, nil
}

// StoredFile is an attachment of a live candidate as the warehouse records
// it; SHA256 is "" for a file not stored yet.
type StoredFile struct {
	AttachmentID, CandidateID string
	SHA256, BlobPath          string
	Size                      int64
}

// pendingFile is the condition of an attachment not stored yet: no
// sha256, and no refused download (downloaded_at set without a file; the
// reason is in rejected_records).
const pendingFile = `a.sha256 IS NULL AND a.downloaded_at IS NULL`

// StoredFiles calls fn for each live attachment of account's live
// candidates that is stored or pending (see PendingFiles), for a run to
// check their blobs and fetch what is missing. The files stream: an account
// with millions of them is never held in memory. An error from fn stops it.
func (db *DB) StoredFiles(ctx context.Context, account string, fn func(StoredFile) error) error {
	rows, err := db.sql.QueryContext(ctx, `SELECT a.attachment_id, a.candidate_id, coalesce(a.sha256, ''),
			coalesce(a.blob_path, ''), coalesce(a.size_bytes, 0)
		FROM attachments a JOIN candidates c ON c.account_id = a.account_id AND c.candidate_id = a.candidate_id
		WHERE a.account_id = $1 AND a.remote_deleted_at IS NULL AND c.remote_deleted_at IS NULL
			AND (a.sha256 IS NOT NULL OR `+pendingFile+`)`, account)
	if err != nil {
		return fmt.Errorf("stored files %s: %w", account, err)
	}
	defer rows.Close()
	for rows.Next() {
		var f StoredFile
		if err := rows.Scan(&f.AttachmentID, &f.CandidateID, &f.SHA256, &f.BlobPath, &f.Size); err != nil {
			return fmt.Errorf("stored files %s: %w", account, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stored files %s: %w", account, err)
	}
	return nil
}

// PendingFiles counts the live attachments of account's live candidates
// not stored yet: their download failed in a way that may pass (the file
// host down), and the next run fetches them.
func (db *DB) PendingFiles(ctx context.Context, account string) (int64, error) {
	var n int64
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*)
		FROM attachments a JOIN candidates c ON c.account_id = a.account_id AND c.candidate_id = a.candidate_id
		WHERE a.account_id = $1 AND a.remote_deleted_at IS NULL AND c.remote_deleted_at IS NULL AND `+pendingFile,
		account).Scan(&n); err != nil {
		return 0, fmt.Errorf("pending files %s: %w", account, err)
	}
	return n, nil
}

// querier is a *sql.DB, *sql.Conn or *sql.Tx.
type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// values reads the one column of query's rows, in order.
func values[T any](ctx context.Context, q querier, query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// stringMap reads the two string columns of query into a map.
func stringMap(ctx context.Context, q querier, query string, args ...any) (map[string]string, error) {
	return mapOf[string](ctx, q, query, args...)
}

// mapOf reads the two columns of query, a string key and a value, into a
// map.
func mapOf[V any](ctx context.Context, q querier, query string, args ...any) (map[string]V, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := make(map[string]V)
	for rows.Next() {
		var k string
		var v V
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// PendingDetails returns up to limit (all when limit <= 0) serials of live
// candidates of account whose detail is missing or stale; see
// PendingDetailHashes.
func (db *DB) PendingDetails(ctx context.Context, account string, limit int) ([]string, error) {
	pending, err := db.PendingDetailHashes(ctx, account, limit)
	ids := make([]string, len(pending))
	for i, p := range pending {
		ids[i] = p.Serial
	}
	return ids, err
}

// PendingDetail is a candidate whose detail is missing or stale, with the
// list hash its detail is to be fetched at.
type PendingDetail struct {
	Serial, RowHash string
}

// PendingDetailHashes returns up to limit (all when limit <= 0) live
// candidates of account whose detail is missing or stale (detail_hash IS
// DISTINCT FROM row_hash), with their row_hash: active ones first
// (funnel_stage not hired, rejected or withdrawn), then the newest
// applications first, so a backfill makes the warehouse useful long before
// its history is complete. Candidates whose detail has landed and awaits
// its merge are not pending.
func (db *DB) PendingDetailHashes(ctx context.Context, account string, limit int) ([]PendingDetail, error) {
	if limit <= 0 {
		limit = math.MaxInt64
	}
	m, err := db.sql.QueryContext(ctx, `SELECT candidate_id, coalesce(row_hash, '') FROM candidates
		WHERE account_id = $1 AND remote_deleted_at IS NULL AND detail_hash IS DISTINCT FROM row_hash
			AND candidate_id NOT IN (SELECT candidate_id FROM `+landSchema+`.land_candidates
				WHERE account_id = $1 AND detail_hash IS NOT NULL)
		ORDER BY coalesce(funnel_stage IN ('hired', 'rejected', 'withdrawn'), false),
			applied_at DESC NULLS LAST, candidate_id
		LIMIT $2`, account, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("pending details %s: %w", account, err)
	}
	defer m.Close()
	var pending []PendingDetail
	for m.Next() {
		var p PendingDetail
		if err := m.Scan(&p.Serial, &p.RowHash); err != nil {
			return nil, fmt.Errorf("pending details %s: %w", account, err)
		}
		pending = append(pending, p)
	}
	if err := m.Err(); err != nil {
		return nil, fmt.Errorf("pending details %s: %w", account, err)
	}
	return pending, nil
}

// Checkpoint returns the stored progress of account's unfinished run over
// resource, or nil, nil when there is none.
func (db *DB) Checkpoint(ctx context.Context, account, resource string) (*Checkpoint, error) {
	c := Checkpoint{Account: account, Resource: resource}
	var state string
	err := db.sql.QueryRowContext(ctx, `SELECT run_id, mode, state::VARCHAR, updated_at FROM sync_checkpoints
		WHERE account_id = ? AND resource = ?`, account, resource).Scan(&c.RunID, &c.Mode, &state, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s %s: %w", account, resource, err)
	}
	c.State = json.RawMessage(state)
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

// ClearCheckpoint removes account's checkpoint for resource, if any: the
// run it belonged to is complete.
func (db *DB) ClearCheckpoint(ctx context.Context, account, resource string) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, err := db.sql.ExecContext(ctx, `DELETE FROM sync_checkpoints WHERE account_id = ? AND resource = ?`,
		account, resource); err != nil {
		return fmt.Errorf("clear checkpoint %s %s: %w", account, resource, err)
	}
	return nil
}

// MarkDeleted sets remote_deleted_at = at on the live rows of account in
// resource ("jobs", "candidates", "hires" or "attachments"; the singular
// works too) that the scan started at scanStarted did not see: last_seen_at
// before scanStarted (not written since) and not recorded as scanned
// (Batch.Scanned*). It returns how many it marked. Call it only after a
// scan that read every page, before EndScan. Attachments are not in list
// pages; the caller marks them only if it saw every candidate's files.
func (db *DB) MarkDeleted(ctx context.Context, account, resource string, scanStarted, at time.Time) (int64, error) {
	t, err := syncedTable(resource)
	if err != nil {
		return 0, fmt.Errorf("mark deleted %s: %w", account, err)
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	var n int64
	err = db.inTxLocked(ctx, account, func(w *tx) error {
		res, err := w.tx.ExecContext(ctx, `UPDATE `+t.tableName()+` SET remote_deleted_at = $3
			WHERE account_id = $1 AND last_seen_at < $2 AND remote_deleted_at IS NULL
			AND `+t.keyName()+` NOT IN (SELECT id FROM `+landSchema+`.scan_seen WHERE account_id = $1 AND table_name = $4)`,
			account, scanStarted.UTC(), at.UTC(), t.tableName())
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n > 0 {
			return w.bumpTable(t.tableName())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark deleted %s %s: %w", account, resource, err)
	}
	return n, nil
}

// Vanished returns the live candidates of account that the scan started at
// scanStarted has not seen (see MarkDeleted), for a check before they are
// marked deleted.
func (db *DB) Vanished(ctx context.Context, account string, scanStarted time.Time) ([]string, error) {
	ids, err := values[string](ctx, db.sql, `SELECT candidate_id FROM candidates
		WHERE account_id = $1 AND remote_deleted_at IS NULL AND last_seen_at < $2
		AND candidate_id NOT IN (SELECT id FROM `+landSchema+`.scan_seen WHERE account_id = $1 AND table_name = 'candidates')
		ORDER BY candidate_id`, account, scanStarted.UTC())
	if err != nil {
		return nil, fmt.Errorf("vanished %s: %w", account, err)
	}
	return ids, nil
}

// EndScan closes a scan of resource: rows it saw unchanged that were marked
// deleted come back (remote_deleted_at cleared, last_seen_at = at), and its
// record of what it saw is dropped. complete says whether the scan read
// every page; a scan that did not revives nothing. EndScan with complete
// false also discards what an abandoned scan left.
func (db *DB) EndScan(ctx context.Context, account, resource string, complete bool, at time.Time) error {
	t, err := syncedTable(resource)
	if err != nil {
		return fmt.Errorf("end scan %s: %w", account, err)
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	err = db.inTxLocked(ctx, account, func(w *tx) error {
		if complete {
			res, err := w.tx.ExecContext(ctx, `UPDATE `+t.tableName()+` SET remote_deleted_at = NULL, last_seen_at = greatest(last_seen_at, $2)
				WHERE account_id = $1 AND remote_deleted_at IS NOT NULL
				AND `+t.keyName()+` IN (SELECT id FROM `+landSchema+`.scan_seen WHERE account_id = $1 AND table_name = $3)`,
				account, at.UTC(), t.tableName())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if err := w.bumpTable(t.tableName()); err != nil {
					return err
				}
			}
		}
		return w.exec(`DELETE FROM `+landSchema+`.scan_seen WHERE account_id = $1 AND table_name = $2`, account, t.tableName())
	})
	if err != nil {
		return fmt.Errorf("end scan %s %s: %w", account, resource, err)
	}
	return nil
}

// syncedTable returns the keyed table a resource name stands for.
func syncedTable(resource string) (synced, error) {
	for _, t := range syncedTables {
		if resource == t.tableName() || resource+"s" == t.tableName() {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown resource %q", resource)
}

// Counts returns the number of live rows (remote_deleted_at IS NULL) of
// account per synced table, and all rows of stage_events,
// rejected_records, webhook_events and sync_runs. account "" counts every
// account.
func (db *DB) Counts(ctx context.Context, account string) (map[string]int64, error) {
	rows, err := db.sql.QueryContext(ctx, `
		SELECT 'jobs', count(*) FROM jobs WHERE ($1 = '' OR account_id = $1) AND remote_deleted_at IS NULL
		UNION ALL SELECT 'candidates', count(*) FROM candidates WHERE ($1 = '' OR account_id = $1) AND remote_deleted_at IS NULL
		UNION ALL SELECT 'hires', count(*) FROM hires WHERE ($1 = '' OR account_id = $1) AND remote_deleted_at IS NULL
		UNION ALL SELECT 'attachments', count(*) FROM attachments WHERE ($1 = '' OR account_id = $1) AND remote_deleted_at IS NULL
		UNION ALL SELECT 'stage_events', count(*) FROM stage_events WHERE ($1 = '' OR account_id = $1)
		UNION ALL SELECT 'rejected_records', count(*) FROM rejected_records WHERE ($1 = '' OR account_id = $1)
		UNION ALL SELECT 'webhook_events', count(*) FROM webhook_events WHERE ($1 = '' OR account_id = $1)
		UNION ALL SELECT 'sync_runs', count(*) FROM sync_runs WHERE ($1 = '' OR account_id = $1)`, account)
	if err != nil {
		return nil, fmt.Errorf("counts %s: %w", account, err)
	}
	defer rows.Close()
	counts := make(map[string]int64)
	for rows.Next() {
		var table string
		var n int64
		if err := rows.Scan(&table, &n); err != nil {
			return nil, fmt.Errorf("counts %s: %w", account, err)
		}
		counts[table] = n
	}
	return counts, rows.Err()
}
