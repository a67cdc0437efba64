package warehouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// Status is what `stackhouse status` shows, as the writing process last
// recorded it: the process that holds the live warehouse writes it next to
// the file (StatusPath) when a run starts and ends, after each merge and
// after each publish, so that a reader never has to open the live file (and
// take the lock a writer needs).
type Status struct {
	WrittenAt     time.Time                   `json:"written_at"`
	PID           int                         `json:"pid"`
	SchemaVersion int                         `json:"schema_version"`
	Runs          []schema.Run                `json:"runs"`   // each account's latest run
	Counts        map[string]map[string]int64 `json:"counts"` // account → table → live rows
	LastPublish   PublishRecord               `json:"last_publish"`
	LastOK        PublishRecord               `json:"last_successful_publish"`
}

// StatusPath is where the status of the warehouse at dbPath is recorded:
// stackhouse.duckdb → stackhouse.status.json.
func StatusPath(dbPath string) string {
	file, _, _ := strings.Cut(dbPath, "?")
	return strings.TrimSuffix(file, filepath.Ext(file)) + ".status.json"
}

// ErrNoStatus is returned by ReadStatus when no status was recorded.
var ErrNoStatus = errors.New("no status recorded")

// ReadStatus reads the status recorded for the warehouse at dbPath. It
// never opens the warehouse.
func ReadStatus(dbPath string) (*Status, error) {
	b, err := os.ReadFile(StatusPath(dbPath))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoStatus
	}
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StatusPath(dbPath), err)
	}
	return &s, nil
}

// SaveStatus records the warehouse's status next to its file (nothing for
// an in-memory database). Callers inside the package ignore its error: the
// record only feeds `status`, which shows when it was written.
func (db *DB) SaveStatus(ctx context.Context) error { return db.saveStatus(ctx, 0) }

// progressStatusEvery is how often a run's progress (each batch it lands,
// each merge) refreshes the status record: counting every table after
// every batch of a large backfill is work the run need not do.
const progressStatusEvery = 2 * time.Second

// saveStatus is SaveStatus, skipped when the record is younger than
// minAge. The record is built and written under one lock, so an older
// status never replaces a newer one.
func (db *DB) saveStatus(ctx context.Context, minAge time.Duration) error {
	if db.path == "" {
		return nil
	}
	db.statusMu.Lock()
	defer db.statusMu.Unlock()
	if minAge > 0 && time.Since(db.statusAt) < minAge {
		return nil
	}
	s, err := db.status(ctx)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	db.statusAt = s.WrittenAt
	path := StatusPath(db.path)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (db *DB) status(ctx context.Context) (*Status, error) {
	s := &Status{WrittenAt: time.Now().UTC(), PID: os.Getpid(), Counts: map[string]map[string]int64{}}
	var err error
	if s.SchemaVersion, err = db.SchemaVersion(ctx); err != nil {
		return nil, err
	}
	if s.Runs, err = db.LastRuns(ctx); err != nil {
		return nil, err
	}
	if s.LastPublish, s.LastOK, err = db.LastPublish(ctx); err != nil {
		return nil, err
	}
	var parts []string
	for _, t := range []string{"jobs", "candidates", "hires", "attachments"} {
		parts = append(parts, `SELECT account_id, '`+t+`', count(*) FROM `+t+` WHERE remote_deleted_at IS NULL GROUP BY ALL`)
	}
	parts = append(parts, `SELECT account_id, 'stage_events', count(*) FROM stage_events GROUP BY ALL`)
	rows, err := db.sql.QueryContext(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var account, table string
		var n int64
		if err := rows.Scan(&account, &table, &n); err != nil {
			return nil, err
		}
		if s.Counts[account] == nil {
			s.Counts[account] = map[string]int64{}
		}
		s.Counts[account][table] = n
	}
	return s, rows.Err()
}
