package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/s3"
)

const lakeUsage = `lake [-config F] [-parquet DIR|s3://bucket/prefix] [-out FILE] [-sql]

Writes a small DuckDB database of views over a published Parquet tree: one view per
table (jobs, candidates, stage_events, …) over every account's file, the accounts and
their time zones from the configuration (-config; without one, dates are UTC dates), and
the shared definitions and every metric_* view (each metric at each grain) on top. Shard
workers that publish into one tree are read as one warehouse, without the writer's lock. The views read the files at every query, so they show every publish
as soon as it lands; the database itself never needs rewriting unless the tree moves.

  duckdb -readonly data/stackhouse-lake.duckdb "SELECT * FROM metric_time_to_fill"

For s3:// trees the reading DuckDB needs its httpfs extension and the store's
credentials; this binary has no httpfs, so -sql prints the statements (with a
CREATE SECRET for the credential chain) to run in a DuckDB that has it:

  stackhouse lake -parquet s3://my-bucket/stackhouse -sql | duckdb lake.duckdb`

func lakeFlags(fs *flag.FlagSet) action {
	cfgPath := configFlag(fs)
	source := fs.String("parquet", "", "the Parquet tree: a directory or s3://bucket/prefix (default: warehouse.parquet_dir)")
	out := fs.String("out", "", "the lake database to write (default: stackhouse-lake.duckdb beside the Parquet directory)")
	printSQL := fs.Bool("sql", false, "print the SQL instead of writing a database")
	return func(ctx context.Context, in *invocation) error {
		return lake(ctx, *cfgPath, *source, *out, *printSQL, in.stdout)
	}
}

// lake writes (or prints) the lake database over the Parquet tree source
// (warehouse.parquet_dir of the configuration at cfgPath when "").
func lake(ctx context.Context, cfgPath, sourceDir, outPath string, printOnly bool, stdout io.Writer) error {
	source, out, printSQL := &sourceDir, &outPath, &printOnly
	var publish sync.PublishConfig
	var accounts []warehouse.Account // the configured accounts' time zones
	if *source == "" {
		cfg, err := loadConfigForRead(cfgPath)
		if err != nil {
			return withHint(err, "or name the tree: stackhouse lake -parquet DIR")
		}
		*source, publish, accounts = cfg.Warehouse.ParquetDir, cfg.Publish, configAccounts(cfg)
		if *source == "" {
			return &usageError{msg: "no Parquet tree", hint: "pass -parquet DIR or set warehouse.parquet_dir"}
		}
	} else if fileExists(cfgPath) {
		if cfg, err := loadConfigForRead(cfgPath); err == nil {
			publish, accounts = cfg.Publish, configAccounts(cfg)
		}
	}
	remote := s3.IsURL(*source)
	if remote {
		if _, err := s3.NewBucket(*source); err != nil {
			return err
		}
	}
	tables, err := warehouse.LakeSQL(*source)
	if err != nil {
		return err
	}
	zones, err := warehouse.LakeAccountsSQL(accounts)
	if err != nil {
		return err
	}
	tables += zones
	if *printSQL {
		views, err := queries.ViewsScript()
		if err != nil {
			return err
		}
		if remote {
			fmt.Fprint(stdout, s3Secret(publish))
		}
		fmt.Fprint(stdout, tables)
		fmt.Fprint(stdout, views)
		return nil
	}
	if remote {
		return withHint(errors.New("lake: this stackhouse's DuckDB has no httpfs extension to read s3:// with"),
			"print the statements with -sql and run them in a DuckDB that has httpfs: stackhouse lake -parquet "+*source+" -sql | duckdb lake.duckdb")
	}
	if *out == "" {
		*out = filepath.Join(filepath.Dir(filepath.Clean(*source)), "stackhouse-lake.duckdb")
	}
	if err := writeLake(ctx, *out, tables); err != nil {
		return fmt.Errorf("lake %s: %w", *out, err)
	}
	abs, _ := filepath.Abs(*out)
	fmt.Fprintf(stdout, "lake database: %s (views over %s)\n", abs, *source)
	if len(accounts) == 0 {
		fmt.Fprintln(stdout, "note: no configuration named the accounts' time zones: the metrics' dates are UTC dates (pass -config F)")
	}
	return nil
}

// configAccounts is the configured accounts as the accounts table keeps them.
func configAccounts(cfg *sync.Config) []warehouse.Account {
	accounts := make([]warehouse.Account, len(cfg.Accounts))
	for i, a := range cfg.Accounts {
		accounts[i] = warehouse.Account{ID: a.Subdomain, Name: a.Name, TimeZone: a.TimeZone}
	}
	return accounts
}

// writeLake writes the views into a new database file beside path and
// renames it over path, so a reader opens the old or the new one.
func writeLake(ctx context.Context, path, tables string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	os.Remove(tmp) // DuckDB creates the file itself
	defer os.Remove(tmp)
	defer os.Remove(tmp + ".wal")
	db, err := sql.Open("duckdb", tmp)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, tables); err != nil {
		if strings.Contains(err.Error(), "No files found") {
			return withHint(err, "publish first (stackhouse sync or export): the tree has no Parquet files for a table")
		}
		return err
	}
	if err := queries.CreateViews(ctx, db); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CHECKPOINT`); err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// s3Secret is the CREATE SECRET a DuckDB with httpfs needs to read the
// bucket: credentials from the same chain stackhouse uses (environment,
// shared files, instance role), never written into the file.
func s3Secret(p sync.PublishConfig) string {
	var b strings.Builder
	b.WriteString("INSTALL httpfs;\nLOAD httpfs;\nINSTALL aws;\nLOAD aws;\n")
	b.WriteString("CREATE OR REPLACE SECRET stackhouse_lake (TYPE s3, PROVIDER credential_chain")
	if p.Region != "" {
		fmt.Fprintf(&b, ", REGION '%s'", strings.ReplaceAll(p.Region, "'", "''"))
	}
	if p.Endpoint != "" {
		host := strings.TrimPrefix(strings.TrimPrefix(p.Endpoint, "https://"), "http://")
		fmt.Fprintf(&b, ", ENDPOINT '%s'", strings.ReplaceAll(strings.TrimRight(host, "/"), "'", "''"))
		if strings.HasPrefix(p.Endpoint, "http://") {
			b.WriteString(", USE_SSL false")
		}
	}
	if p.PathStyle {
		b.WriteString(", URL_STYLE 'path'")
	}
	b.WriteString(");\n")
	return b.String()
}
