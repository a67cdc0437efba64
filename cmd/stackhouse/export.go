package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
)

const exportUsage = `export [-config F] [-out DIR] [-account A]

Publishes the warehouse now: Parquet for every table under DIR (hive layout
table=<name>/account_id=<subdomain>/, swapped in atomically) and the read-only database
(warehouse.published_path). A sync does this after every successful run.`

func exportFlags(fs *flag.FlagSet) action {
	out := fs.String("out", "", "Parquet directory (default: warehouse.parquet_dir)")
	account := fs.String("account", "", "only this account's partitions")
	return func(ctx context.Context, in *invocation) error { return export(ctx, in.cfg, *out, *account, in.stdout) }
}

// export publishes the accounts' Parquet partitions (all when account is
// "") under out (warehouse.parquet_dir when "") and the read-only copy.
func export(ctx context.Context, cfg *sync.Config, out, account string, stdout io.Writer) error {
	dir := cfg.Warehouse.ParquetDir
	if out != "" {
		dir = out
	}
	if dir == "" && cfg.Warehouse.PublishedPath == "" {
		return &usageError{msg: "nothing to export to", hint: "pass -out DIR or set warehouse.parquet_dir"}
	}
	var accounts []string
	if account != "" {
		a, err := cfg.Account(account)
		if err != nil {
			return err
		}
		accounts = []string{a.Subdomain}
	}
	db, err := openWarehouse(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := db.Publish(ctx, warehouse.PublishOptions{ReadOnlyPath: cfg.Warehouse.PublishedPath, ParquetDir: dir, Accounts: accounts}); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	if dir != "" {
		abs, _ := filepath.Abs(dir)
		fmt.Fprintf(tw, "parquet\t%s\n", abs)
	}
	if p := cfg.Warehouse.PublishedPath; p != "" {
		abs, _ := filepath.Abs(p)
		fmt.Fprintf(tw, "read-only database\t%s\n", abs)
	}
	fmt.Fprintf(tw, "took\t%s\n", time.Since(start).Round(time.Millisecond))
	return tw.Flush()
}
