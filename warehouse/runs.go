package warehouse

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// StartRun records r in sync_runs (replacing a row with the same run and
// account). An empty Status means running; a zero StartedAt means now.
func (db *DB) StartRun(ctx context.Context, r schema.Run) error {
	if r.Status == "" {
		r.Status = schema.RunRunning
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Now()
	}
	if err := db.putRun(ctx, r); err != nil {
		return fmt.Errorf("start run %s %s: %w", r.AccountID, r.RunID, err)
	}
	db.saveStatus(ctx, progressStatusEvery) // also called with every batch a run lands
	return nil
}

// FinishRun records the final state of r in sync_runs. An empty Status
// means succeeded, or failed when Error is set; a zero FinishedAt means now.
func (db *DB) FinishRun(ctx context.Context, r schema.Run) error {
	if r.Status == "" {
		r.Status = schema.RunSucceeded
		if r.Error != "" {
			r.Status = schema.RunFailed
		}
	}
	if r.FinishedAt.IsZero() {
		r.FinishedAt = time.Now()
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = r.FinishedAt
	}
	if err := db.putRun(ctx, r); err != nil {
		return fmt.Errorf("finish run %s %s: %w", r.AccountID, r.RunID, err)
	}
	db.SaveStatus(ctx)
	return nil
}

// InterruptRuns marks account's runs still recorded as running
// interrupted, with reason as their error, and returns how many it marked.
// Call it only while holding the account (its next run): a run recorded as
// running is then one whose process ended before it could finish. Their
// counts stay as they were last recorded.
func (db *DB) InterruptRuns(ctx context.Context, account, reason string) (int64, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	res, err := db.sql.ExecContext(ctx, `UPDATE sync_runs SET status = ?, error = ?
		WHERE account_id = ? AND status = ?`, schema.RunInterrupted, reason, account, schema.RunRunning)
	if err != nil {
		return 0, fmt.Errorf("interrupt abandoned runs %s: %w", account, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

const runColumns = `run_id, account_id, mode, status, started_at, finished_at, requests, retries,
	throttled, pages, rows_new, rows_changed, rows_unchanged, rows_deleted, details_fetched,
	files_downloaded, rejected, complete_scan, error, files_pending, warning`

func (db *DB) putRun(ctx context.Context, r schema.Run) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	_, err := db.sql.ExecContext(ctx, `INSERT INTO sync_runs (`+runColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, account_id) DO UPDATE SET
			mode = excluded.mode, status = excluded.status, started_at = excluded.started_at,
			finished_at = excluded.finished_at, requests = excluded.requests, retries = excluded.retries,
			throttled = excluded.throttled, pages = excluded.pages, rows_new = excluded.rows_new,
			rows_changed = excluded.rows_changed, rows_unchanged = excluded.rows_unchanged,
			rows_deleted = excluded.rows_deleted, details_fetched = excluded.details_fetched,
			files_downloaded = excluded.files_downloaded, rejected = excluded.rejected,
			complete_scan = excluded.complete_scan, error = excluded.error,
			files_pending = excluded.files_pending, warning = excluded.warning`,
		str(r.RunID), str(r.AccountID), str(r.Mode), r.Status, ts(r.StartedAt), ts(r.FinishedAt),
		r.Requests, r.Retries, r.Throttled, r.Pages, r.RowsNew, r.RowsChanged, r.RowsUnchanged,
		r.RowsDeleted, r.DetailsFetched, r.FilesDownloaded, r.Rejected, r.CompleteScan, str(r.Error),
		r.FilesPending, str(r.Warning))
	return err
}

// LastRuns returns the latest run (by started_at) of every account, ordered
// by account.
func (db *DB) LastRuns(ctx context.Context) ([]schema.Run, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT `+runColumns+` FROM sync_runs
		QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY started_at DESC, run_id DESC) = 1
		ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("last runs: %w", err)
	}
	defer rows.Close()
	var runs []schema.Run
	for rows.Next() {
		var (
			r        schema.Run
			finished sql.NullTime
			errText  sql.NullString
			warning  sql.NullString
		)
		if err := rows.Scan(&r.RunID, &r.AccountID, &r.Mode, &r.Status, &r.StartedAt, &finished,
			&r.Requests, &r.Retries, &r.Throttled, &r.Pages, &r.RowsNew, &r.RowsChanged,
			&r.RowsUnchanged, &r.RowsDeleted, &r.DetailsFetched, &r.FilesDownloaded, &r.Rejected,
			&r.CompleteScan, &errText, &r.FilesPending, &warning); err != nil {
			return nil, fmt.Errorf("last runs: %w", err)
		}
		r.StartedAt, r.FinishedAt, r.Error, r.Warning = r.StartedAt.UTC(), timeOf(finished), errText.String, warning.String
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("last runs: %w", err)
	}
	return runs, nil
}

// InsertWebhookEvent stores e unless an event with the same account and
// EventID is already stored, and reports whether it inserted it: a
// redelivered webhook is harmless. A zero ReceivedAt means now. It is
// InsertWebhookEvents for one event without stage events.
func (db *DB) InsertWebhookEvent(ctx context.Context, e schema.WebhookEvent) (bool, error) {
	inserted, err := db.InsertWebhookEvents(ctx, []schema.WebhookEvent{e}, nil)
	if err != nil {
		return false, err
	}
	return inserted[0], nil
}

// MarkWebhookApplied sets applied_at = at on account's events ids that are
// not applied yet.
func (db *DB) MarkWebhookApplied(ctx context.Context, account string, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, err := db.sql.ExecContext(ctx, `UPDATE webhook_events SET applied_at = $3
		WHERE account_id = $1 AND event_id IN (SELECT unnest($2::VARCHAR[])) AND applied_at IS NULL`,
		account, ids, at.UTC()); err != nil {
		return fmt.Errorf("mark webhooks applied %s: %w", account, err)
	}
	return nil
}

// PendingWebhookEvents returns account's stored events not applied yet,
// oldest first: after a crash they are replayed.
func (db *DB) PendingWebhookEvents(ctx context.Context, account string) ([]schema.WebhookEvent, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT event_id, account_id, object_type, event_type,
			object_id, stage, event_date, user_serial, user_type, payload::VARCHAR, received_at
		FROM webhook_events WHERE account_id = ? AND applied_at IS NULL
		ORDER BY received_at, event_id`, account)
	if err != nil {
		return nil, fmt.Errorf("pending webhooks %s: %w", account, err)
	}
	defer rows.Close()
	var events []schema.WebhookEvent
	for rows.Next() {
		var (
			e                                          schema.WebhookEvent
			objType, evType, objID, stage, user, utype sql.NullString
			payload                                    sql.NullString
			eventDate                                  sql.NullTime
		)
		if err := rows.Scan(&e.EventID, &e.AccountID, &objType, &evType, &objID, &stage, &eventDate,
			&user, &utype, &payload, &e.ReceivedAt); err != nil {
			return nil, fmt.Errorf("pending webhooks %s: %w", account, err)
		}
		e.ObjectType, e.EventType, e.ObjectID, e.Stage = objType.String, evType.String, objID.String, stage.String
		e.UserSerial, e.UserType, e.EventDate = user.String, utype.String, timeOf(eventDate)
		e.ReceivedAt = e.ReceivedAt.UTC()
		if payload.Valid {
			e.Payload = json.RawMessage(payload.String)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending webhooks %s: %w", account, err)
	}
	return events, nil
}
