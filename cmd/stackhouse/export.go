package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/warehouse"
)

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "export [-config F] [-out DIR] [-account A]\n\n"+
		"Publishes the warehouse now: Parquet for every table under DIR (hive layout\n"+
		"table=<name>/account_id=<subdomain>/, swapped in atomically) and the read-only database\n"+
		"(warehouse.published_path). A sync does this after every successful run.", stderr)
	cfgPath := configFlag(fs)
	out := fs.String("out", "", "Parquet directory (default: warehouse.parquet_dir)")
	account := fs.String("account", "", "only this account's partitions")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfigForRead(*cfgPath)
	if err != nil {
		return err
	}
	dir := cfg.Warehouse.ParquetDir
	if *out != "" {
		dir = *out
	}
	if dir == "" && cfg.Warehouse.PublishedPath == "" {
		return &usageError{msg: "nothing to export to", hint: "pass -out DIR or set warehouse.parquet_dir"}
	}
	var accounts []string
	if *account != "" {
		a, err := cfg.Account(*account)
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
