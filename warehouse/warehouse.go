// Package warehouse is stackhouse's DuckDB store: it opens and migrates the
// database, writes batches of rows with their sync checkpoint in one
// transaction, answers the sync engine's state lookups, records runs and
// webhooks, and publishes a read-only copy and a Parquet tree for BI tools.
//
// # Concurrency
//
// A DB is safe for concurrent use. Every method that writes takes one mutex
// inside DB, so writes are serialized: the sync engine's single writer, a
// webhook handler's inserts and run bookkeeping never meet in a DuckDB
// transaction conflict, and no caller needs to retry. Reads (states,
// pending details, counts, SQL()) run concurrently with writes on DuckDB's
// MVCC snapshots and never wait for the mutex. Publish reads a snapshot too
// and does not block writers; concurrent Publish calls run one at a time.
package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/stackhouse/stackhouse/schema"
)

// DefaultCheckpointThreshold is the WAL size at which DuckDB checkpoints,
// unless the path's settings name checkpoint_threshold. It is large so that
// rows landed between two merges stay in the WAL: a checkpoint would
// compress them into the file only for their merge to delete them, leaving
// the file larger (and every copy of it) by their size. Merge checkpoints
// itself once the landing it merged is gone (see mergeCheckpointWAL).
const DefaultCheckpointThreshold = "2GB"

// mergeCheckpointWAL is the WAL size above which Merge ends with a
// checkpoint: its landing rows are deleted by then, so only the merged
// tables reach the file. A smaller WAL waits for the next checkpoint (a
// publish's copy, the database's close, or the threshold).
const mergeCheckpointWAL = 64 << 20

// DB is an open warehouse.
type DB struct {
	sql       *sql.DB
	path      string
	writeMu   stdsync.Mutex // serializes every write; see the package doc
	publishMu stdsync.Mutex // one Publish at a time
	statusMu  stdsync.Mutex // one SaveStatus at a time
	statusAt  time.Time     // when SaveStatus last wrote (under statusMu)
	seq       atomic.Int64  // the order rows land in (landing _seq)

	log *slog.Logger // OpenOptions.Log: schema upgrades; nil for none

	// MergeBytes bounds the landed bytes Merge takes in one transaction;
	// 0 means mergeBudget of DuckDB's memory_limit.
	MergeBytes int64
}

// Open opens (creating it and its parent directory if needed) the DuckDB
// file at path and applies schema.Migrations() that are not yet applied,
// each in its own transaction, recording them in schema_migrations; opening
// an up-to-date database changes nothing. "" or ":memory:" opens a private
// in-memory database (tests). path may end in DuckDB settings as a query
// string ("wh.duckdb?memory_limit=256MB&threads=4"); DuckDB's default
// memory_limit is 80% of RAM, so set one where RSS matters. One setting is
// stackhouse's own, row_group_size (see rowGroupRows), and a file's threads
// are capped by its memory_limit unless set (see MemoryPerThread). Sessions use the
// UTC time zone, so casts of TIMESTAMPTZ to DATE do not depend on the host.
//
// A DuckDB file admits one writing process: opening a file another process
// holds waits up to LockWait for it, then fails with DuckDB's lock error.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, OpenOptions{})
}

// OpenOptions are OpenWith's options.
type OpenOptions struct {
	// Log, when set, reports each migration applied to a database that
	// already had a schema (an upgrade) as it starts and ends: one that
	// rebuilds a large table takes a while (0007: 14 s at 1M applications).
	Log *slog.Logger
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, o OpenOptions) (*DB, error) {
	dsn := path
	if path == ":memory:" {
		dsn = ""
	}
	file, _, _ := strings.Cut(dsn, "?")
	if file != "" && file != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return nil, fmt.Errorf("open warehouse: %w", err)
		}
	}
	connector, err := newConnector(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	db := &DB{sql: sql.OpenDB(connector), path: file, log: o.Log}
	if err := db.migrate(ctx, schema.Migrations()); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	if err := db.initSeq(ctx); err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open warehouse %s: %w", path, err)
	}
	return db, nil
}

// initSeq continues the landing order after the rows already landed.
func (db *DB) initSeq(ctx context.Context) error {
	var parts []string
	for _, name := range landedNames() {
		parts = append(parts, `SELECT max(_seq) AS s FROM `+landSchema+`.land_`+name)
	}
	var seq int64
	if err := db.sql.QueryRowContext(ctx, `SELECT coalesce(max(s), 0) FROM (`+strings.Join(parts, ` UNION ALL `)+`)`).Scan(&seq); err != nil {
		return fmt.Errorf("landing order: %w", err)
	}
	db.seq.Store(seq)
	return nil
}

// Close closes the database. The caller must not use db afterwards.
func (db *DB) Close() error {
	return db.sql.Close()
}

// SQL returns the underlying database for queries (the canned metrics) and
// for tests. Writing through it bypasses DB's write serialization.
func (db *DB) SQL() *sql.DB {
	return db.sql
}

// ErrNewerSchema means the database was migrated by a newer stackhouse.
var ErrNewerSchema = errors.New("warehouse: database schema is newer than this binary")

// migrate applies the migrations of ms that the database has not applied.
func (db *DB) migrate(ctx context.Context, ms []schema.Migration) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, err := db.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       VARCHAR NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL
	)`); err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	current, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("%w (database %d, binary %d)", ErrNewerSchema, current, latest)
	}
	applied, err := values[string](ctx, db.sql, `SELECT version::VARCHAR FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("schema_migrations: %w", err)
	}
	for _, m := range ms {
		// Every migration not applied yet, in order: one merged from a
		// branch below the database's version is applied too.
		if slices.Contains(applied, strconv.Itoa(m.Version)) {
			continue
		}
		name := fmt.Sprintf("%04d_%s", m.Version, m.Name)
		upgrade := current > 0 && db.log != nil // a new database's migrations go unsaid
		if upgrade {
			db.log.InfoContext(ctx, "upgrading the warehouse schema", slog.String("migration", name),
				slog.Int("from_version", current))
		}
		start := time.Now()
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		if upgrade {
			db.log.InfoContext(ctx, "upgraded the warehouse schema", slog.String("migration", name),
				slog.Duration("took", time.Since(start)))
		}
	}
	return nil
}

func (db *DB) apply(ctx context.Context, m schema.Migration) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`,
		m.Version, m.Name, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// Values for DuckDB: Go zero values become NULL (see package schema).

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func jsonText(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// quoteLiteral quotes s as an SQL string literal. DuckDB takes no
// parameters where a file name is expected (ATTACH, COPY … TO), so the
// paths stackhouse itself builds are quoted this way; no other value is.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent quotes a catalog name read from DuckDB itself.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// LockWait is how long Open waits for another process to release the
// database file's lock (a writer that is closing, a tool that glanced at
// the file) before it gives up.
var LockWait = 10 * time.Second

// Row groups: DuckDB's default is 122,880 rows. An insert of a row group or
// more is written straight into the file, a smaller one through the WAL and
// again at the next checkpoint. Under the default memory_limit (256MB) a
// merge slice (mergeBudget) holds about 33,000 applications with their stage
// events, so stackhouse writes row groups of SmallRowGroupRows there: a 1M
// backfill takes 235 s instead of 265 s. Under 128MB, a 1M backfill with
// them failed, out of memory in a merge's insert (not traced), and passes
// with DuckDB's row groups; so below SmallRowGroupMemory the file keeps
// DuckDB's. The path's row_group_size setting overrides both.
const (
	SmallRowGroupRows   = 16384
	DuckDBRowGroupRows  = 122880
	SmallRowGroupMemory = 240 << 20 // a memory_limit of 256MB is 244.1 MiB
)

// MemoryPerThread is the least memory_limit per DuckDB thread: each thread
// needs working memory of its own (hash tables, buffers). A 100k backfill's
// first merge fails out of memory with two threads under 64MB (30.5 MiB a
// thread) and completes under 96MB (45.8 MiB a thread); a 1M backfill
// completes with two under 128MB. Unless the path's settings name threads,
// a file database runs at most memory_limit / MemoryPerThread threads (at
// least one).
const MemoryPerThread = 45 << 20

// rowGroupRows is the row group size for a memory_limit of limit bytes.
func rowGroupRows(limit int64) int {
	if limit >= SmallRowGroupMemory {
		return SmallRowGroupRows
	}
	return DuckDBRowGroupRows
}

// newConnector opens the DuckDB file with stackhouse's session settings,
// waiting up to LockWait while another process holds its lock.
//
// A file is attached to an in-memory DuckDB instance rather than opened
// as the instance's own database, because only ATTACH takes a row group
// size (ROW_GROUP_SIZE); every session then uses it.
func newConnector(ctx context.Context, dsn string) (*duckdb.Connector, error) {
	file, query, _ := strings.Cut(dsn, "?")
	if file == "" || file == ":memory:" {
		return duckdb.NewConnector(dsn, (&session{dsn: dsn}).init)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("settings after ? in the path: %w", err) // not echoed: a setting may hold a secret
	}
	rows := 0 // from memory_limit
	if v := q.Get("row_group_size"); v != "" {
		if rows, err = strconv.Atoi(v); err != nil || rows <= 0 || rows%2048 != 0 {
			return nil, fmt.Errorf("row_group_size %q: not a multiple of 2048", v)
		}
		q.Del("row_group_size")
	}
	if !q.Has("temp_directory") {
		q.Set("temp_directory", file+".tmp") // as DuckDB does for a file
	}
	deadline := time.Now().Add(LockWait)
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		s := &session{dsn: dsn, catalog: catalogName(file)}
		c, err := duckdb.NewConnector("?"+q.Encode(), s.init)
		if err != nil {
			return nil, err
		}
		if err = s.attach(ctx, c, file, rows, q.Has("threads")); err == nil {
			return c, nil
		}
		c.Close()
		if !isLockConflict(err) || time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// catalogName is the name a database file is attached as: its base name
// without extension, as DuckDB names a file it opens, unless that is one
// of DuckDB's own catalogs.
func catalogName(file string) string {
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	switch strings.ToLower(name) {
	case "", "memory", "temp", "system", "main":
		return "warehouse_" + name
	}
	return name
}

// session is the setup of every connection of a connector.
type session struct {
	dsn      string
	catalog  string      // the attached file's catalog; "" in memory
	attached atomic.Bool // once set, sessions use catalog
}

// attach attaches file to the connector's instance with row groups of rows
// rows (0: rowGroupRows of its memory_limit), and caps the instance's
// threads at MemoryPerThread unless setThreads (the settings named them).
func (s *session) attach(ctx context.Context, c *duckdb.Connector, file string, rows int, setThreads bool) error {
	conn, err := c.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	r, err := conn.(driver.QueryerContext).QueryContext(ctx,
		`SELECT current_setting('memory_limit'), current_setting('threads')::BIGINT`, nil)
	if err != nil {
		return err
	}
	v := make([]driver.Value, 2)
	err = r.Next(v)
	r.Close()
	if err != nil {
		return err
	}
	threads, _ := v[1].(int64)
	limit, ok := parseSize(fmt.Sprint(v[0]))
	if !ok {
		limit = 1 << 30
	}
	if rows == 0 {
		rows = rowGroupRows(limit)
	}
	exec := conn.(driver.ExecerContext)
	if most := max(1, limit/MemoryPerThread); !setThreads && threads > most {
		if _, err := exec.ExecContext(ctx, `SET threads = `+strconv.FormatInt(most, 10), nil); err != nil {
			return err
		}
	}
	_, err = exec.ExecContext(ctx, `ATTACH IF NOT EXISTS `+quoteLiteral(file)+
		` AS `+quoteIdent(s.catalog)+` (ROW_GROUP_SIZE `+strconv.Itoa(rows)+`)`, nil)
	if err == nil {
		s.attached.Store(true)
	}
	return err
}

// isLockConflict reports whether err is DuckDB refusing a file another
// process holds.
func isLockConflict(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Could not set lock") || strings.Contains(s, "Conflicting lock")
}

// init is run on every new connection.
func (s *session) init(execer driver.ExecerContext) error {
	// Results keep insertion order only where a query asks (ORDER BY):
	// with insertion order kept, a COPY or INSERT … SELECT buffers
	// whatever its threads produce out of order, and a Parquet export
	// of a large account exceeds memory_limit.
	settings := []string{`SET TimeZone = 'UTC'`, `SET preserve_insertion_order = false`}
	if !strings.Contains(s.dsn, "checkpoint_threshold") {
		// DuckDB checkpoints (compresses into the file) whenever the WAL
		// passes 16MB: landed rows would be compressed, then read back
		// and deleted by their merge. A larger threshold lets most landed
		// rows reach their merge before a checkpoint.
		settings = append(settings, `SET checkpoint_threshold = '`+DefaultCheckpointThreshold+`'`)
	}
	if s.attached.Load() {
		settings = append(settings, `USE `+quoteIdent(s.catalog))
	}
	for _, set := range settings {
		if _, err := execer.ExecContext(context.Background(), set, nil); err != nil {
			return err
		}
	}
	return nil
}
