package warehouse

import (
	"context"
	"fmt"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// SchemaVersion returns the version of the last migration applied to the
// database, 0 before any.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.sql.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema_migrations: %w", err)
	}
	return v, nil
}

// CurrentSchema reports whether the database is migrated to exactly this
// binary's schema (the last of schema.Migrations), with the version found.
func (db *DB) CurrentSchema(ctx context.Context) (int, bool, error) {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return 0, false, err
	}
	ms := schema.Migrations()
	return v, v == ms[len(ms)-1].Version, nil
}

// LastSuccesses returns, for every account with one, when its last
// successful scheduled run (tail, sync, full or backfill: webhook refreshes
// do not count) finished.
func (db *DB) LastSuccesses(ctx context.Context) (map[string]time.Time, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT account_id, max(finished_at) FROM sync_runs
		WHERE status = 'succeeded' AND mode <> 'webhook' AND finished_at IS NOT NULL GROUP BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("last successful runs: %w", err)
	}
	defer rows.Close()
	last := make(map[string]time.Time)
	for rows.Next() {
		var account string
		var at time.Time
		if err := rows.Scan(&account, &at); err != nil {
			return nil, fmt.Errorf("last successful runs: %w", err)
		}
		last[account] = at
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("last successful runs: %w", err)
	}
	return last, nil
}
