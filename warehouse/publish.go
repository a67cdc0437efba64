package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
	// Remote, when set, receives a mirror of the accounts' Parquet files
	// after they are published under ParquetDir (which it needs): what
	// changed since the remote last received it, then each changed
	// account's manifest (see ManifestKey).
	Remote Remote
	// Now is the clock for removing abandoned staging and dating
	// manifests; nil means time.Now.
	Now func() time.Time
	// CopyInterval, when positive, keeps a read-only copy younger than it
	// even if the data changed (PublishStats.CopyStale says so): the copy
	// costs the database's size in I/O, the Parquet tree only what
	// changed, so a daemon's frequent small runs refresh Parquet and leave
	// the copy to a slower cadence. A copy is also kept until CopyCostRatio
	// times the last copy's duration has passed, so that copying a large
	// warehouse takes a bounded share of the time whatever the interval.
	CopyInterval time.Duration
	// Prune, with Accounts set, removes from ParquetDir the partitions of
	// the accounts this database holds that Accounts does not name (an
	// account no longer configured). Accounts this database never held —
	// other shards' — are never touched.
	Prune bool
	// PartRows is the number of rows from which an account's candidates
	// and stage_events are published as one file per month (see
	// DefaultPartRows, its value when 0); negative: never.
	PartRows int64
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
//	ParquetDir/<table>/account_id=<account>/data.parquet
//
// for every contract table (schema.ContractTables) and account: one file per
// partition, a layout DuckDB, polars, Spark, Trino and Hive read alike. An
// account's candidates and stage_events of PartRows rows or more are one
// file per month instead, data-<YYYY-MM>.parquet (see DefaultPartRows).
// account_id is in the path and also the file's first column, so a file
// read on its own keeps it; timestamps are UTC microseconds
// (isAdjustedToUTC), JSON columns carry Parquet's JSON logical type (a
// reader that does not know it reads a string). Each file is written under
// ParquetDir/_staging/ (ignored by Spark and Trino, and outside every table
// directory, so no table glob sees it) and renamed over the old file:
// rename is atomic, so a reader globbing ParquetDir/candidates/*/*.parquet
// sees each account's old or new file, never half of one, never neither,
// and a reader that opened the old file keeps reading it. The old version
// disappears with the rename: there are no version directories to collect.
// An account without rows in a table gets an empty file with the table's
// columns. Publish only ever replaces the partitions of the accounts it
// exports, so shard workers that own different accounts can publish into
// one shared tree at the same time. Tables are swapped one after another,
// not all at once. A partition an earlier stackhouse wrote under the old
// layout (ParquetDir/table=<table>/account_id=<account>/) is removed when
// the account is published in the new one, so no reader of the old paths
// keeps reading data that no longer changes.
//
// With a Remote, the accounts' files are then mirrored to it (see upload):
// the files whose rows changed since the remote received them, then, last,
// each changed account's manifest, so a remote reader never sees an account
// half-published. A refused or failed upload fails the Publish after the
// local tree is complete; the next Publish sends what is missing. Every
// Publish, failed or not, is recorded for LastPublish.
//
// duckdb-go shares one DuckDB instance per file path within a process: a
// process that keeps the copy open and opens it again gets its old
// snapshot. BI tools are other processes; inside stackhouse, query the live
// database through SQL().
func (db *DB) Publish(ctx context.Context, o PublishOptions) (st PublishStats, err error) {
	db.publishMu.Lock()
	defer db.publishMu.Unlock()
	CleanJunk(o.ReadOnlyPath, o.ParquetDir)
	start := time.Now()
	defer func() { db.logPublish(context.WithoutCancel(ctx), o, st, start, err) }()
	if o.ReadOnlyPath != "" {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		copyStart := time.Now()
		n, due, err := db.publishCopy(ctx, o.ReadOnlyPath, o.CopyInterval, now())
		if err != nil {
			return st, fmt.Errorf("publish %s: %w", o.ReadOnlyPath, err)
		}
		st.Copied, st.Bytes, st.CopyStale, st.CopyDue = n > 0, n, !due.IsZero(), due
		if st.Copied {
			st.CopyTook = time.Since(copyStart)
		}
	}
	if o.Remote != nil && o.ParquetDir == "" {
		return st, fmt.Errorf("publish %s: a remote mirrors the Parquet tree, and there is none", o.Remote.URL())
	}
	if o.ParquetDir != "" {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		accounts := o.Accounts
		if accounts == nil {
			var err error
			if accounts, err = db.accounts(ctx); err != nil {
				return st, err
			}
		}
		partRows := o.PartRows
		if partRows == 0 {
			partRows = DefaultPartRows
		}
		p, err := db.publishParquet(ctx, o.ParquetDir, accounts, partRows, now())
		st.Files, st.Bytes = p.Files, st.Bytes+p.Bytes
		if err != nil {
			return st, fmt.Errorf("publish %s: %w", o.ParquetDir, err)
		}
		if o.Prune && o.Accounts != nil {
			if st.Pruned, err = db.prune(ctx, o.ParquetDir, o.Accounts); err != nil {
				return st, fmt.Errorf("prune %s: %w", o.ParquetDir, err)
			}
		}
		if o.Remote != nil {
			u, err := db.upload(ctx, o.ParquetDir, o.Remote, accounts, now())
			st.Uploaded, st.Manifests, st.UploadedBytes = u.files, u.manifests, u.bytes
			if err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

const publishCatalog = "stackhouse_publish"

// copyFingerprint summarizes what the read-only copy holds: every hiring
// table's fingerprint per account, the schema version, the views and the
// macros. An unchanged fingerprint means the copy is current. sync_runs and
// webhook_events are left out: a run that changed no data does not cost a
// copy (the copy shows them as of its last data change).
func (db *DB) copyFingerprint(ctx context.Context) (string, error) {
	var parts []string
	for _, t := range schema.ContractTables() {
		if t == schema.TableRuns || t == schema.TableWebhookEvents {
			// Bookkeeping: every run records itself, so an unchanged sync
			// would otherwise cost a copy of the whole database. The copy
			// holds them as of its last data change; Parquet's are current.
			continue
		}
		parts = append(parts, `SELECT '`+t+`/' || account_id || '/' || fp AS f FROM (`+fingerprintSQL(t)+`) x(account_id, fp)`)
	}
	parts = append(parts,
		`SELECT 'schema/' || max(version) FROM schema_migrations`,
		`SELECT 'view/' || view_name || '/' || sql FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal AND NOT temporary`,
		`SELECT 'macro/' || function_name || '/' || coalesce(macro_definition, '') FROM duckdb_functions()
			WHERE function_type IN ('macro', 'table_macro') AND schema_name = 'main' AND NOT internal`)
	var fp string
	err := db.sql.QueryRowContext(ctx, `SELECT md5(string_agg(f, chr(10) ORDER BY f)) FROM (`+
		strings.Join(parts, ` UNION ALL `)+`) u(f)`).Scan(&fp)
	return fp, err
}

// CopyCostRatio bounds the time spent replacing the read-only copy: with
// a positive PublishOptions.CopyInterval, a copy is kept (stale) until
// CopyCostRatio times the duration of the last replacement has passed since
// it was written, so copying takes at most about 1/CopyCostRatio of the
// time. A copy of a small warehouse takes well under a second and the
// interval decides; a 2 GB warehouse whose copy takes 18 s is copied at
// most every 6 minutes, not after every 5-minute tail run.
const CopyCostRatio = 20

// copyGap is how long a copy is kept after it was written although the
// data changed: interval, or CopyCostRatio times the last copy's duration
// when that is longer. A zero interval keeps none.
func (db *DB) copyGap(ctx context.Context, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	if took, ok := db.lastCopyTook(ctx); ok {
		return max(interval, CopyCostRatio*took)
	}
	return interval
}

// publishCopy replaces the read-only copy when anything it holds changed
// since it was written, and returns the bytes written (0: it was current)
// and, when it kept a copy younger than its gap (copyGap) although the
// data changed, when the gap ends (zero otherwise).
//
// A file database is copied as a file: writers are held off (writeMu) while
// a CHECKPOINT moves every committed change into the file and the file's
// bytes are copied (copy_file_range, a reflink where the file system has
// them), so the copy costs the database's size in I/O, not a re-encoding
// of every table. Where that cannot be done (an in-memory database, or a
// checkpoint that left a WAL behind) every table is copied through SQL.
func (db *DB) publishCopy(ctx context.Context, path string, interval time.Duration, now time.Time) (written int64, due time.Time, err error) {
	if db.path != "" && sameFile(db.path, path) {
		return 0, due, fmt.Errorf("the read-only copy cannot replace the live database")
	}
	target, err := filepath.Abs(path)
	if err != nil {
		return 0, due, err
	}
	fp, err := db.copyFingerprint(ctx)
	if err != nil {
		return 0, due, fmt.Errorf("fingerprint: %w", err)
	}
	var old string
	db.sql.QueryRowContext(ctx, `SELECT fingerprint FROM `+landSchema+`.published
		WHERE target = ? AND account_id = '*' AND table_name = '*'`, target).Scan(&old)
	if info, err := os.Stat(path); err == nil {
		if old == fp {
			return 0, due, nil
		}
		if gap := db.copyGap(ctx, interval); gap > 0 && now.Sub(info.ModTime()) < gap {
			return 0, info.ModTime().Add(gap), nil
		}
	}
	n, err := db.replaceCopy(ctx, path, target, fp)
	return n, due, err
}

// replaceCopy writes the read-only copy at path afresh and records fp as
// what it holds.
func (db *DB) replaceCopy(ctx context.Context, path, target, fp string) (int64, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	tmp, err := reserveName(dir, "."+base+"."+owner()+"*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp + ".wal")
	defer os.Remove(tmp)
	copied := false
	if db.path != "" {
		if copied, err = db.copyFile(ctx, tmp); err != nil {
			return 0, err
		}
	}
	if !copied {
		if err := db.copySQL(ctx, tmp); err != nil {
			return 0, err
		}
	}
	if err := syncFile(tmp); err != nil {
		return 0, err
	}
	info, err := os.Stat(tmp)
	if err != nil {
		return 0, err
	}
	// A WAL left next to the published file would be replayed onto the new
	// one by the next reader that opens it read-write.
	if err := os.Remove(path + ".wal"); err != nil && !os.IsNotExist(err) {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	if err := syncFile(dir); err != nil {
		return 0, err
	}
	return info.Size(), db.recordPublished(ctx, target, "*", "*", fp)
}

// copyFile copies the checkpointed database file to tmp. It reports false
// when the checkpoint left a WAL (another connection's transaction kept
// it), and the caller copies through SQL instead.
func (db *DB) copyFile(ctx context.Context, tmp string) (bool, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	if _, err := db.sql.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	if info, err := os.Stat(db.path + ".wal"); err == nil && info.Size() > 0 {
		return false, nil
	}
	src, err := os.Open(db.path)
	if err != nil {
		return false, err
	}
	defer src.Close()
	dst, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return false, err
	}
	return true, dst.Close()
}

// copySQL writes every table and view of the live database into a new
// database file at tmp.
func (db *DB) copySQL(ctx context.Context, tmp string) (err error) {
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
	return nil
}

// copyTables copies every table of the live catalog in one transaction, so
// the copy is one consistent snapshot. Constraints and indexes are left
// out: the copy is read-only.
func copyTables(ctx context.Context, conn *sql.Conn, live string) error {
	// Temporary and attached catalogs are left out by the filters.
	tables, err := values[string](ctx, conn, `SELECT table_name FROM duckdb_tables()
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

// accountName is what an account may be called to become a partition
// directory: no separators, no "=", no leading dot.
var accountName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (db *DB) publishParquet(ctx context.Context, root string, accounts []string, partRows int64, now time.Time) (PublishStats, error) {
	var st PublishStats
	for _, a := range accounts {
		if !accountName.MatchString(a) {
			return st, fmt.Errorf("account %q cannot name a partition directory", a)
		}
	}
	staging := filepath.Join(root, "_staging")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return st, err
	}
	if len(accounts) == 0 {
		return st, nil
	}
	stage, err := os.MkdirTemp(staging, "publish-"+owner()+"*")
	if err != nil {
		return st, err
	}
	defer os.RemoveAll(stage)

	target, err := filepath.Abs(root)
	if err != nil {
		return st, err
	}
	exports, err := db.exportParquet(ctx, stage, target, root, accounts, partRows)
	if err != nil {
		return st, err
	}
	for _, e := range exports {
		for _, f := range e.files {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			if info, err := os.Stat(f.staged); err == nil {
				st.Bytes += info.Size()
			}
			if err := swap(f.staged, AccountFile(root, e.table, e.account, f.name)); err != nil {
				return st, fmt.Errorf("%s of %s: %w", e.table, e.account, err)
			}
			if f.name != dataFile {
				if err := db.recordPublished(ctx, target, e.account, fileRecord(e.table, f.name), f.fingerprint); err != nil {
					return st, err
				}
			}
			st.Files++
		}
		// The files the table no longer has go, and then their records;
		// the table's fingerprint is recorded last, once its files are
		// all in place.
		if err := removeStale(root, e.table, e.account, e.keep); err != nil {
			return st, fmt.Errorf("%s of %s: %w", e.table, e.account, err)
		}
		for name := range e.had {
			if name != dataFile && !slices.Contains(e.keep, name) {
				if err := db.forgetFile(ctx, target, e.account, e.table, name); err != nil {
					return st, err
				}
			}
		}
		if err := db.recordPublished(ctx, target, e.account, e.table, e.fingerprint); err != nil {
			return st, err
		}
	}
	removeOldLayout(root, accounts)
	return st, nil
}

// prune removes under root the partitions of the accounts this database
// holds that keep does not name, and forgets that root received them.
func (db *DB) prune(ctx context.Context, root string, keep []string) ([]string, error) {
	held, err := db.accounts(ctx)
	if err != nil {
		return nil, err
	}
	target, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	var pruned []string
	for _, a := range held {
		if slices.Contains(keep, a) || !accountName.MatchString(a) {
			continue
		}
		for _, table := range schema.ContractTables() {
			if err := os.RemoveAll(filepath.Dir(ParquetFile(root, table, a))); err != nil {
				return pruned, err
			}
		}
		if err := db.forgetPublished(ctx, target, a); err != nil {
			return pruned, err
		}
		pruned = append(pruned, a)
	}
	return pruned, nil
}

func (db *DB) forgetPublished(ctx context.Context, target, account string) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	_, err := db.sql.ExecContext(ctx, `DELETE FROM `+landSchema+`.published WHERE target = ? AND account_id = ?`, target, account)
	return err
}

// ParquetFile is the path of the Parquet file holding account's rows of
// table under root: root/<table>/account_id=<account>/data.parquet.
// A table split by month (DefaultPartRows) has no such file: its files are
// AccountFile(root, table, account, "data-<month>.parquet").
func ParquetFile(root, table, account string) string {
	return AccountFile(root, table, account, dataFile)
}

// removeOldLayout removes the accounts' partitions of the earlier layout
// (root/table=<table>/account_id=<account>/), whose files
// would otherwise stay readable and never change again, and each
// table=<table> directory left empty. Other accounts' old partitions (a
// shard worker not yet upgraded) are left alone.
func removeOldLayout(root string, accounts []string) {
	for _, t := range schema.ContractTables() {
		dir := filepath.Join(root, "table="+t)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		for _, a := range accounts {
			if _, err := os.Stat(filepath.Dir(ParquetFile(root, t, a))); err == nil {
				os.RemoveAll(filepath.Join(dir, "account_id="+a))
			}
		}
		os.Remove(dir) // only when empty
	}
}

// PublishStats says what a Publish wrote.
type PublishStats struct {
	Files  int   // Parquet files replaced
	Bytes  int64 // bytes written locally: Parquet files and the read-only copy
	Copied bool  // the read-only copy was replaced
	// CopyStale means the data changed but the copy was kept, being
	// younger than PublishOptions.CopyInterval (or CopyCostRatio times the
	// last copy's duration); CopyDue is when that ends and a publish
	// replaces it.
	CopyStale bool
	CopyDue   time.Time
	// CopyTook is how long replacing the copy took (zero: it was kept).
	CopyTook time.Duration
	// Pruned are the accounts whose partitions PublishOptions.Prune
	// removed.
	Pruned []string

	Uploaded      int   // Parquet files sent to the remote
	Manifests     int   // manifests sent to the remote
	UploadedBytes int64 // bytes sent to the remote
}

// accounts lists every account_id in the contract tables.
func (db *DB) accounts(ctx context.Context) ([]string, error) {
	var parts []string
	for _, t := range schema.ContractTables() {
		parts = append(parts, `SELECT account_id FROM `+t)
	}
	names, err := values[string](ctx, db.sql, `SELECT DISTINCT account_id FROM (`+
		strings.Join(parts, ` UNION `)+`) ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// tableExport is what a publish writes of one table of one account: the
// staged files to put in place, the names of every file the table's
// directory holds afterwards (keep), and the table's fingerprint, recorded
// once they are in place. had is the files target held before
// (recordedFiles).
type tableExport struct {
	table, account, fingerprint string
	files                       []stagedFile
	keep                        []string
	had                         map[string]string
}

// stagedFile is one staged file: its name in the account's directory and
// the fingerprint of its rows.
type stagedFile struct{ name, staged, fingerprint string }

// fingerprintSQL returns, per account of the contract table, a string that
// changes whenever the table's rows of the account change: the version the
// writer bumps for the tables it merges (with the row count, so that rows
// written by other means are noticed too), and a cheap summary of the
// small bookkeeping tables.
func fingerprintSQL(table string) string {
	switch table {
	case schema.TableRuns:
		return `SELECT account_id, count(*) || '/' || count(finished_at) || '/' || coalesce(max(finished_at)::VARCHAR, '') ||
			'/' || coalesce(max(started_at)::VARCHAR, '') FROM sync_runs GROUP BY account_id`
	case schema.TableWebhookEvents:
		return `SELECT account_id, count(*) || '/' || count(applied_at) || '/' || coalesce(max(applied_at)::VARCHAR, '') ||
			'/' || coalesce(max(received_at)::VARCHAR, '') FROM webhook_events GROUP BY account_id`
	}
	return `SELECT t.account_id, coalesce(v.version, 0) || '/' || t.n FROM
		(SELECT account_id, count(*) AS n FROM ` + table + ` GROUP BY account_id) t
		LEFT JOIN ` + landSchema + `.table_versions v ON v.account_id = t.account_id AND v.table_name = '` + table + `'`
}

// exportParquet writes, from one snapshot, staged files for each contract
// table and account whose rows changed since target last received them
// (or whose files are missing under root), and returns them. Each file is
// one streaming COPY whose row groups are sized to memory_limit, so an
// account of any size exports within it. An account's rows of a table of
// partedTables, from partRows on, are one file per month, and only the
// months whose rows changed are written again.
func (db *DB) exportParquet(ctx context.Context, stage, target, root string, accounts []string, partRows int64) ([]tableExport, error) {
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
	published, err := stringMap(ctx, tx, `SELECT account_id || '/' || table_name, fingerprint
		FROM `+landSchema+`.published WHERE target = ?`, target)
	if err != nil {
		return nil, err
	}
	groupRows := max(db.memoryLimit(ctx)/(16*4096), 1024)
	copyTo := func(cols, table, where, staged string, args []any) error {
		_, err := tx.ExecContext(ctx, `COPY (SELECT `+cols+` FROM `+table+` WHERE account_id = $1`+where+`)
			TO `+quoteLiteral(staged)+` (FORMAT parquet, ROW_GROUP_SIZE `+strconv.FormatInt(groupRows, 10)+`)`, args...)
		return err
	}
	var exports []tableExport
	for _, table := range schema.ContractTables() {
		current, err := stringMap(ctx, tx, fingerprintSQL(table))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		cols, err := exportColumns(ctx, tx, table)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		rows, err := partedRows(ctx, tx, table, partRows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
		for _, a := range accounts {
			fp := current[a]
			if fp == "" {
				fp = "empty"
			}
			byMonth := rows != nil && rows[a] >= partRows
			if byMonth {
				fp += "/by month" // so that a change of layout is a change
			}
			had := recordedFiles(published, table, a)
			if published[a+"/"+table] == fp && filesPresent(root, table, a, had) {
				continue
			}
			e := tableExport{table: table, account: a, fingerprint: fp, had: had}
			dir := filepath.Dir(AccountFile(stage, table, a, dataFile))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			if !byMonth {
				// Staged files end in .tmp so no *.parquet glob can match them.
				staged := filepath.Join(dir, "data.tmp")
				if err := copyTo(cols, table, "", staged, []any{a}); err != nil {
					return nil, fmt.Errorf("export %s of %s: %w", table, a, err)
				}
				e.files, e.keep = []stagedFile{{dataFile, staged, fp}}, []string{dataFile}
				exports = append(exports, e)
				continue
			}
			parts, err := partFingerprints(ctx, tx, table, cols, a)
			if err != nil {
				return nil, fmt.Errorf("%s of %s: %w", table, a, err)
			}
			for part, pfp := range parts {
				name := partName(part)
				e.keep = append(e.keep, name)
				if had[name] == pfp {
					if _, err := os.Stat(AccountFile(root, table, a, name)); err == nil {
						continue
					}
				}
				where, args, err := partFilter(table, part)
				if err != nil {
					return nil, err
				}
				staged := filepath.Join(dir, strings.TrimSuffix(name, ".parquet")+".tmp")
				if err := copyTo(cols, table, " AND "+where, staged, append([]any{a}, args...)); err != nil {
					return nil, fmt.Errorf("export %s of %s, %s: %w", table, a, part, err)
				}
				e.files = append(e.files, stagedFile{name, staged, pfp})
			}
			exports = append(exports, e)
		}
	}
	return exports, tx.Commit()
}

// recordPublished notes that target holds the table's rows of account as
// of fingerprint.
func (db *DB) recordPublished(ctx context.Context, target, account, table, fingerprint string) error {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	_, err := db.sql.ExecContext(ctx, `INSERT INTO `+landSchema+`.published VALUES (?, ?, ?, ?)
		ON CONFLICT (target, account_id, table_name) DO UPDATE SET fingerprint = excluded.fingerprint`,
		target, account, table, fingerprint)
	return err
}

// exportColumns returns the select list of table: every column, account_id
// first (the partition directory names it too, but a file read on its own
// must keep it). JSON columns stay JSON: DuckDB writes them as strings with
// the JSON logical type.
func exportColumns(ctx context.Context, tx *sql.Tx, table string) (string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT column_name FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ?
		ORDER BY column_index`, table)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", err
		}
		if name == "account_id" {
			cols = append([]string{quoteIdent(name)}, cols...)
		} else {
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
