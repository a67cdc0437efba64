package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/sync"
)

const demoUsage = `demo [-dir DIR] [-candidates N] [-jobs N] [-seed S]

Starts the built-in fake ApplicantStack on loopback, backfills it into a fresh warehouse
under DIR, publishes Parquet and the read-only database, and prints what landed.
No account and no network needed.`

func demoFlags(fs *flag.FlagSet) action {
	dir := fs.String("dir", "demo", "where the demo warehouse, Parquet and files go (replaced)")
	candidates := fs.Int("candidates", 2000, "candidates (applications) in the fake account")
	jobs := fs.Int("jobs", 40, "jobs in the fake account")
	seed := fs.Int64("seed", 1, "seed of the generated data")
	return func(ctx context.Context, in *invocation) error {
		stdout, stderr := in.stdout, in.stderr
		if *candidates < 0 || *jobs < 1 {
			return &usageError{msg: "-candidates must be ≥ 0 and -jobs ≥ 1"}
		}
		start := time.Now()

		srv := fake.NewServer()
		srv.Epoch = time.Now().UTC().Truncate(time.Minute)
		srv.WallClock = true
		tenant := fake.NewTenant("demo")
		tenant.Seed, tenant.Jobs, tenant.Candidates, tenant.CustomFields = *seed, *jobs, *candidates, true
		if err := srv.AddTenant(tenant); err != nil {
			return err
		}
		base, err := srv.Start("127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Close()
		fmt.Fprintf(stdout, "fake ApplicantStack at %s (%d jobs, %d candidates)\n", base, *jobs, *candidates)

		if err := os.RemoveAll(*dir); err != nil {
			return err
		}
		cfg := sync.DefaultConfig()
		cfg.Warehouse = sync.WarehouseConfig{
			Path:           filepath.Join(*dir, "stackhouse.duckdb"),
			PublishedPath:  filepath.Join(*dir, "stackhouse-published.duckdb"),
			ParquetDir:     filepath.Join(*dir, "parquet"),
			AttachmentsDir: filepath.Join(*dir, "attachments"),
		}
		cfg.Accounts = []sync.AccountConfig{{
			Subdomain: tenant.Subdomain, Token: applicantstack.Secret(tenant.Token), BaseURL: base,
			TimeZone: tenant.TimeZone, RequestsPerSecond: 1000, Burst: 50, Concurrency: 8,
		}}
		if err := sync.FinishConfig(cfg); err != nil {
			return err
		}
		s, err := openSyncer(ctx, cfg, newLogger(stderr, "warn", "auto"))
		if err != nil {
			return err
		}
		db := s.DB
		defer db.Close()
		view := newProgressView(ctx, stderr, newLogger(stderr, "info", "auto"), isTerminal(stderr))
		s.OnProgress = view.add
		results := s.RunAll(ctx, []*sync.AccountConfig{&cfg.Accounts[0]}, sync.ModeBackfill)
		view.close()
		if err := summarize(stdout, results, ctx.Err()); err != nil {
			return err
		}

		counts, err := db.Counts(ctx, tenant.Subdomain)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwarehouse: %d jobs, %d candidates, %d stage events, %d attachments, %d hires\n",
			counts["jobs"], counts["candidates"], counts["stage_events"], counts["attachments"], counts["hires"])
		for _, name := range []string{"time_to_fill", "funnel_conversion"} {
			if err := demoMetric(ctx, db.SQL(), name, stdout); err != nil {
				return err
			}
		}
		report, err := writeReport(ctx, db.SQL(), queries.Params{}, queries.ReportOptions{}, filepath.Join(*dir, "report.html"))
		if err != nil {
			return err
		}
		abs := absPath
		fmt.Fprintf(stdout, "\nlive database:      %s\n", abs(cfg.Warehouse.Path))
		fmt.Fprintf(stdout, "read-only database: %s   (open this one from BI tools)\n", abs(cfg.Warehouse.PublishedPath))
		fmt.Fprintf(stdout, "parquet:            %s\n", abs(cfg.Warehouse.ParquetDir))
		fmt.Fprintf(stdout, "report:             %s\n", report)
		cfgPath := filepath.Join(*dir, "stackhouse.yaml")
		if err := writeDemoConfig(cfgPath, cfg); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "config:             %s\n", abs(cfgPath))
		fmt.Fprintf(stdout, "\nnext:\n  stackhouse query -list\n  stackhouse query source_of_hire -config %[1]s\n  stackhouse status -config %[1]s\n", cfgPath)
		fmt.Fprintf(stdout, "done in %s\n", time.Since(start).Round(10*time.Millisecond))
		return nil
	}
}

// demoMetric prints the first rows of a metric's rollup for the demo.
func demoMetric(ctx context.Context, db *sql.DB, name string, w io.Writer) error {
	m, err := queries.Lookup(name)
	if err != nil {
		return err
	}
	res, err := queries.Run(ctx, db, m, queries.Params{})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Fprintf(w, "\n%s — %s\n", m.Title, m.Summary())
	if len(res.Rows) > 12 {
		fmt.Fprintf(w, "(first 12 of %d rows; all of them: stackhouse query %s -config <your config>)\n", len(res.Rows), name)
		res.Rows = res.Rows[:12]
	}
	return queries.WriteTable(w, res)
}

// writeDemoConfig saves the demo's configuration so that query, report and
// status work on the demo warehouse afterwards. The fake it names is gone
// once the demo exits, so sync against it fails; the token is the fake's.
func writeDemoConfig(path string, cfg *sync.Config) error {
	a := cfg.Accounts[0]
	body := fmt.Sprintf(`# Written by 'stackhouse demo'. The fake ApplicantStack it points at ran
# only while the demo did: query, report, status and export work on this
# warehouse; sync needs 'stackhouse fake-api' (or a real account) at base_url.
warehouse:
  path: %s
  published_path: %s
  parquet_dir: %s
  attachments_dir: %s
accounts:
  - subdomain: %s
    token: %s
    base_url: %s
    timezone: %s
`, cfg.Warehouse.Path, cfg.Warehouse.PublishedPath, cfg.Warehouse.ParquetDir, cfg.Warehouse.AttachmentsDir,
		a.Subdomain, a.Token.Reveal(), a.BaseURL, a.TimeZone)
	return os.WriteFile(path, []byte(body), 0o600)
}
