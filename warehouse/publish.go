package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/stackhouse/stackhouse/schema"
)

// PublishOptions says what Publish writes.
type PublishOptions struct {
	// ReadOnlyPath is the DuckDB file BI tools open read-only; "" skips it.
	ReadOnlyPath string
	// ParquetDir is the root of the hive-partitioned Parquet tree; "" skips it.
	ParquetDir string
	// Accounts whose Parquet partitions are rewritten; nil means every
	// account in the database. The read-only copy always holds everything.
	Accounts []string
	// Now is the clock for removing abandoned staging; nil means time.Now.
	Now func() time.Time
}

// StaleStagingAge is how old a directory under ParquetDir/_staging must be
// before Publish treats it as left behind by a crashed publisher and
// removes it. Other workers' publishes in progress are younger.
const StaleStagingAge = 6 * time.Hour

// Publish refreshes the read-only copy and the Parquet tree from one
// snapshot of the database. Writers are not blocked while it runs.
//
// The copy holds every table and every view that binds against the copied
// tables (the metric_* views); it is written to a hidden temporary file next
// to ReadOnlyPath, checkpointed, synced and renamed over ReadOnlyPath, so a
// reader opens either the old or the new file, never a partial one.
//
// The Parquet tree is
//
//	ParquetDir/table=<table>/account_id=<account>/data.parquet
//
// for every contract table (schema.ContractTables) and account: one file per
// partition, account_id carried by the path only (as Hive, Spark and Trino
// expect), JSON columns as strings. Each file is written under
// ParquetDir/_staging/ (ignored by Spark and Trino, and outside every
// table=… directory, so no table glob sees it) and renamed over the old
// file: rename is atomic, so a reader globbing
// ParquetDir/table=candidates/*/*.parquet sees each account's old or new
// file, never half of one, never neither, and a reader that opened the old
// file keeps reading it. The old version disappears with the rename: there
// are no version directories to collect. An account without rows in a table
// gets an empty file with the table's columns. Publish only ever replaces
// the partitions of the accounts it exports, so shard workers that own
// different accounts can publish into one shared tree at the same time.
// Tables are swapped one after another, not all at once. Readers should
// declare the partition's type (DuckDB: hive_types = {'account_id':
// VARCHAR}), or an all-digit account name may be read as a number.
//
// duckdb-go shares one DuckDB instance per file path within a process: a
// process that keeps the copy open and opens it again gets its old
// snapshot. BI tools are other processes; inside stackhouse, query the live
// database through SQL().
func (db *DB) Publish(ctx context.Context, o PublishOptions) error {
	db.publishMu.Lock()
	defer db.publishMu.Unlock()
	if o.ReadOnlyPath != "" {
		if err := db.publishCopy(ctx, o.ReadOnlyPath); err != nil {
			return fmt.Errorf("publish %s: %w", o.ReadOnlyPath, err)
		}
	}
	if o.ParquetDir != "" {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		if err := db.publishParquet(ctx, o.ParquetDir, o.Accounts, now()); err != nil {
			return fmt.Errorf("publish %s: %w", o.ParquetDir, err)
		}
	}
	return nil
}

const publishCatalog = "stackhouse_publish"

func (db *DB) publishCopy(ctx context.Context, path string) (err error) {
	if db.path != "" && sameFile(db.path, path) {
		return fmt.Errorf("the read-only copy cannot replace the live database")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := reserveName(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp + ".wal")
	defer os.Remove(tmp)

	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var live string
	if err := conn.QueryRowContext(ctx, `SELECT current_database()`).Scan(&live); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `ATTACH `+quoteLiteral(tmp)+` AS `+publishCatalog); err != nil {
		return err
	}
	attached := true
	defer func() {
		if attached { // an error path: detach whatever happened to ctx
			conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE IF EXISTS `+publishCatalog)
		}
	}()
	if err := copyTables(ctx, conn, live); err != nil {
		return err
	}
	if err := copyViews(ctx, conn, live); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `CHECKPOINT `+publishCatalog); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DETACH DATABASE `+publishCatalog); err != nil {
		return err
	}
	attached = false
	if err := syncFile(tmp); err != nil {
		return err
	}
	// A WAL left next to the published file would be replayed onto the new
	// one by the next reader that opens it read-write.
	if err := os.Remove(path + ".wal"); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncFile(dir)
}

// copyTables copies every table of the live catalog in one transaction, so
// the copy is one consistent snapshot. Constraints and indexes are left
// out: the copy is read-only.
func copyTables(ctx context.Context, conn *sql.Conn, live string) error {
	// Temporary and attached catalogs are left out by the filters.
	tables, err := catalogNames(ctx, conn, `SELECT table_name FROM duckdb_tables()
		WHERE database_name = ? AND schema_name = 'main' AND NOT temporary ORDER BY table_name`, live)
	if err != nil {
		return err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE `+publishCatalog+`.main.`+quoteIdent(t)+
			` AS SELECT * FROM `+quoteIdent(live)+`.main.`+quoteIdent(t)); err != nil {
			return fmt.Errorf("copy %s: %w", t, err)
		}
	}
	return tx.Commit()
}

// copyViews recreates the live catalog's macros and views in the copy (the
// metric views use the macros). With the copy as the connection's default
// catalog, a view's unqualified names bind to the copied tables and macros.
// A view that does not bind (it reads something the copy lacks) is left
// out; views on views are retried until nothing changes. Macros come first:
// creating one binds nothing.
func copyViews(ctx context.Context, conn *sql.Conn, live string) (err error) {
	rows, err := conn.QueryContext(ctx, `SELECT function_name, 'CREATE OR REPLACE MACRO ' || '"' || replace(function_name, '"', '""') || '"('
			|| array_to_string(list_transform(parameters, p -> '"' || replace(p, '"', '""') || '"'), ', ') || ') AS '
			|| CASE WHEN function_type = 'table_macro' THEN 'TABLE ' ELSE '' END || macro_definition
		FROM duckdb_functions()
		WHERE database_name = ? AND schema_name = 'main' AND function_type IN ('macro', 'table_macro') AND NOT internal
		UNION ALL
		SELECT view_name, sql FROM (SELECT view_name, sql FROM duckdb_views()
			WHERE database_name = ? AND schema_name = 'main' AND NOT internal AND NOT temporary
			ORDER BY view_name)`, live, live)
	if err != nil {
		return err
	}
	var pending []string
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			rows.Close()
			return err
		}
		pending = append(pending, ddl)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(pending) == 0 {
		return err
	}
	if _, err := conn.ExecContext(ctx, `USE `+publishCatalog); err != nil {
		return err
	}
	defer func() {
		if _, useErr := conn.ExecContext(context.WithoutCancel(ctx), `USE `+quoteIdent(live)); useErr != nil && err == nil {
			err = useErr
		}
	}()
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var failed []string
		for _, ddl := range pending {
			if _, err := conn.ExecContext(ctx, ddl); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed = append(failed, ddl)
				continue
			}
			progress = true
		}
		pending = failed
	}
	return nil
}

func catalogNames(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// accountName is what an account may be called to become a partition
// directory: no separators, no "=", no leading dot.
var accountName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (db *DB) publishParquet(ctx context.Context, root string, accounts []string, now time.Time) error {
	if accounts == nil {
		var err error
		if accounts, err = db.accounts(ctx); err != nil {
			return err
		}
	}
	for _, a := range accounts {
		if !accountName.MatchString(a) {
			return fmt.Errorf("account %q cannot name a partition directory", a)
		}
	}
	staging := filepath.Join(root, "_staging")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return err
	}
	removeStale(staging, now)
	if len(accounts) == 0 {
		return nil
	}
	stage, err := os.MkdirTemp(staging, "publish-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)

	files, err := db.exportParquet(ctx, stage, accounts)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := swap(f.staged, filepath.Join(root, "table="+f.table, "account_id="+f.account, "data.parquet")); err != nil {
			return fmt.Errorf("%s of %s: %w", f.table, f.account, err)
		}
	}
	return nil
}

// accounts lists every account_id in the contract tables.
func (db *DB) accounts(ctx context.Context) ([]string, error) {
	var parts []string
	for _, t := range schema.ContractTables() {
		parts = append(parts, `SELECT account_id FROM `+t)
	}
	names, err := catalogNames(ctx, db.sql, `SELECT DISTINCT account_id FROM (`+
		strings.Join(parts, ` UNION `)+`) ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

type stagedFile struct{ table, account, staged string }

// exportParquet writes one staged file per contract table and account from
// one snapshot, and returns them.
func (db *DB) exportParquet(ctx context.Context, stage string, accounts []string) ([]stagedFile, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var files []stagedFile
	for _, table := range schema.ContractTables() {
		cols, err := exportColumns(ctx, tx, table)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		dir := filepath.Join(stage, "table="+table)
		// One partitioned COPY writes every account in one scan. Staged
		// files end in .tmp so no *.parquet glob can ever match them.
		if _, err := tx.ExecContext(ctx, `COPY (SELECT account_id, `+cols+` FROM `+table+`
			WHERE account_id IN (SELECT unnest($1::VARCHAR[])))
			TO `+quoteLiteral(dir)+` (FORMAT parquet, PARTITION_BY (account_id),
			FILENAME_PATTERN 'data', FILE_EXTENSION 'tmp')`, accounts); err != nil {
			return nil, fmt.Errorf("export %s: %w", table, err)
		}
		for _, a := range accounts {
			part := filepath.Join(dir, "account_id="+a)
			found, _ := filepath.Glob(filepath.Join(part, "*.tmp"))
			single := filepath.Join(part, "single.tmp")
			switch len(found) {
			case 1:
				files = append(files, stagedFile{table, a, found[0]})
				continue
			case 0: // no rows: an empty file keeps the table's columns visible
				if err := os.MkdirAll(part, 0o755); err != nil {
					return nil, err
				}
			default: // DuckDB split the partition: write it again as one file
				for _, f := range found {
					os.Remove(f)
				}
			}
			if _, err := tx.ExecContext(ctx, `COPY (SELECT `+cols+` FROM `+table+` WHERE account_id = $1)
				TO `+quoteLiteral(single)+` (FORMAT parquet)`, a); err != nil {
				return nil, fmt.Errorf("export %s of %s: %w", table, a, err)
			}
			files = append(files, stagedFile{table, a, single})
		}
	}
	return files, tx.Commit()
}

// exportColumns returns the select list of table without account_id (the
// partition carries it), with JSON columns cast to VARCHAR: Parquet readers
// that do not know the JSON annotation still read a string.
func exportColumns(ctx context.Context, tx *sql.Tx, table string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name, data_type FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
		ORDER BY column_index`, table)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return "", err
		}
		switch {
		case name == "account_id":
		case typ == "JSON":
			cols = append(cols, quoteIdent(name)+`::VARCHAR AS `+quoteIdent(name))
		default:
			cols = append(cols, quoteIdent(name))
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(cols) == 0 {
		return "", fmt.Errorf("no such table")
	}
	return strings.Join(cols, ", "), nil
}

// swap makes staged the file at final: synced, then renamed over it.
func swap(staged, final string) error {
	if err := syncFile(staged); err != nil {
		return err
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Rename(staged, final); err != nil {
		return err
	}
	return syncFile(dir)
}

func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}

// syncFile fsyncs a file or a directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// reserveName returns a fresh path in dir that does not exist, for a file
// DuckDB will create itself.
func reserveName(dir, pattern string) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	name := f.Name()
	f.Close()
	return name, os.Remove(name)
}

// removeStale removes what crashed publishes left in the staging directory.
func removeStale(staging string, now time.Time) {
	entries, err := os.ReadDir(staging)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && now.Sub(info.ModTime()) > StaleStagingAge {
			os.RemoveAll(filepath.Join(staging, e.Name()))
		}
	}
}
