package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/s3"
)

const exportUsage = `export [-config F] [-out DIR|s3://bucket/prefix] [-account A] [-prune]

Publishes the warehouse now: Parquet for every table under DIR (hive layout
<table>/account_id=<subdomain>/data.parquet, swapped in atomically; an account's candidates and
stage_events of 50,000 rows or more are one data-YYYY-MM.parquet per month) and the read-only database
(warehouse.published_path); with an s3:// URL (or publish.url), the Parquet files that changed are
uploaded there from warehouse.parquet_dir, each account's manifest last. Only what changed since
the last publish to the same place is written. A sync does this after every successful run.`

func exportFlags(fs *flag.FlagSet) action {
	out := fs.String("out", "", "Parquet directory, or s3://bucket/prefix to upload to (default: warehouse.parquet_dir and publish.url)")
	account := fs.String("account", "", "only this account's partitions")
	prune := fs.Bool("prune", false, "remove the partitions of accounts this warehouse holds that the configuration no longer names (never another shard's)")
	return func(ctx context.Context, in *invocation) error {
		return export(ctx, in.cfg, *out, *account, *prune, in.stdout)
	}
}

// export publishes the accounts' Parquet partitions (all when account is
// "") under out (warehouse.parquet_dir when "") and the read-only copy.
func export(ctx context.Context, cfg *sync.Config, out, account string, prune bool, stdout io.Writer) error {
	dir, remoteURL := cfg.Warehouse.ParquetDir, cfg.Publish.URL
	switch {
	case out == "":
	case s3.IsURL(out): // never a local directory named "s3:"
		remoteURL = out
	default:
		dir = out
	}
	if dir == "" && cfg.Warehouse.PublishedPath == "" {
		return &usageError{msg: "nothing to export to", hint: "pass -out DIR or set warehouse.parquet_dir"}
	}
	if remoteURL != "" && dir == "" {
		return withHint(fmt.Errorf("upload to %s: no local Parquet tree to upload", remoteURL), "set warehouse.parquet_dir")
	}
	var remote warehouse.Remote
	if remoteURL != "" {
		b, err := sync.OpenRemote(ctx, cfg.Publish, remoteURL)
		if err != nil {
			return err
		}
		remote = b
	}
	var accounts []string
	if prune {
		if account != "" {
			return &usageError{msg: "export: -prune and -account go separately", hint: "-prune keeps every configured account"}
		}
		accounts = []string{}
		for _, a := range cfg.Accounts {
			accounts = append(accounts, a.Subdomain)
		}
	}
	if account != "" {
		a, err := cfg.Account(account)
		if err != nil {
			return err
		}
		accounts = []string{a.Subdomain}
	}
	db, err := openWarehouse(ctx, cfg, newLogger(os.Stderr, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	st, err := db.Publish(ctx, warehouse.PublishOptions{ReadOnlyPath: cfg.Warehouse.PublishedPath, ParquetDir: dir,
		Accounts: accounts, Remote: remote, Prune: prune})
	if err != nil {
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
	if len(st.Pruned) > 0 {
		fmt.Fprintf(tw, "pruned\t%s (no longer configured)\n", strings.Join(st.Pruned, ", "))
	}
	copied := "unchanged"
	if st.Copied {
		copied = "replaced"
	}
	fmt.Fprintf(tw, "written\t%d Parquet files (only what changed since the last publish), read-only database %s, %.1f MB\n",
		st.Files, copied, float64(st.Bytes)/1e6)
	if remote != nil {
		fmt.Fprintf(tw, "uploaded\t%d Parquet files and %d manifests (what changed since the last upload), %.1f MB to %s\n",
			st.Uploaded, st.Manifests, float64(st.UploadedBytes)/1e6, remote.URL())
	}
	fmt.Fprintf(tw, "took\t%s\n", time.Since(start).Round(time.Millisecond))
	return tw.Flush()
}
