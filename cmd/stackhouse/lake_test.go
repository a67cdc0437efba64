package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
	"github.com/stackhouse/stackhouse/queries"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/sync"
	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/s3/s3test"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// TestLake_shards is the "shards into one lake": two shard workers
// with disjoint accounts publish into one Parquet root and one bucket of an
// S3 test server; `stackhouse lake` over the root answers every metric as
// one warehouse that synced every account does.
func TestLake_shards(t *testing.T) {
	if testing.Short() {
		t.Skip("three syncs of four accounts")
	}
	srv := s3test.Start(t, "lake")
	fs, base := faketest.Serve(t)
	names := []string{"acme", "beta", "gamma", "delta"}
	var accounts strings.Builder
	inShard := map[int][]string{}
	for _, n := range names {
		ten := fake.NewTenant(n)
		ten.Jobs, ten.Candidates = 6, 60
		if err := fs.AddTenant(ten); err != nil {
			t.Fatal(err)
		}
		t.Setenv("TOKEN_"+strings.ToUpper(n), ten.Token)
		fmt.Fprintf(&accounts, "  - {subdomain: %s, token: \"${TOKEN_%s}\", base_url: BASE, requests_per_second: 1000, burst: 50}\n",
			n, strings.ToUpper(n))
		for i := range 2 {
			if sync.InShard(n, i, 2) {
				inShard[i] = append(inShard[i], n)
			}
		}
	}
	if len(inShard[0]) == 0 || len(inShard[1]) == 0 {
		t.Fatalf("the accounts do not split over two shards: %v", inShard)
	}

	dir := t.TempDir()
	root := filepath.Join(dir, "shared-parquet")
	config := func(name, parquet, publish string) string {
		p := filepath.Join(dir, name+".yaml")
		body := fmt.Sprintf("warehouse:\n  path: %[1]s/%[2]s/wh.duckdb\n  published_path: %[1]s/%[2]s/pub.duckdb\n"+
			"  parquet_dir: %[3]q\n  attachments_dir: %[1]s/files\n%[4]saccounts:\n%[5]s",
			dir, name, parquet, publish, strings.ReplaceAll(accounts.String(), "BASE", base))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	publish := fmt.Sprintf("publish:\n  url: s3://lake/hr\n  endpoint: %s\n  path_style: true\n", srv.URL)
	shardCfg := []string{config("shard0", root, publish), config("shard1", root, publish)}
	combinedCfg := config("combined", "", "")

	for i, cfg := range shardCfg {
		code, out, errOut := runCmd(t, "backfill", "-quiet", "-config", cfg, "-shard", fmt.Sprintf("%d/2", i))
		if code != 0 {
			t.Fatalf("shard %d: %d\n%s\n%s", i, code, out, errOut)
		}
		for _, a := range inShard[i] {
			if !strings.Contains(out, a) {
				t.Errorf("shard %d did not sync %s:\n%s", i, a, out)
			}
		}
		for _, a := range inShard[1-i] {
			if strings.Contains(out, a) {
				t.Errorf("shard %d synced %s, another shard's account", i, a)
			}
		}
	}
	if code, out, errOut := runCmd(t, "backfill", "-quiet", "-config", combinedCfg); code != 0 {
		t.Fatalf("combined: %d\n%s\n%s", code, out, errOut)
	}

	t.Run("the bucket holds both shards", func(t *testing.T) {
		keys := srv.Keys(t, "lake", "hr/")
		for _, a := range names {
			if !slices.Contains(keys, "hr/"+warehouse.ManifestKey(a)) {
				t.Errorf("no manifest for %s in %v", a, keys)
			}
			for _, table := range schema.ContractTables() {
				local, err := os.ReadFile(warehouse.ParquetFile(root, table, a))
				if err != nil {
					t.Fatal(err)
				}
				if remote := srv.Object(t, "lake", "hr/"+warehouse.ParquetKey(table, a)); !bytes.Equal(local, remote) {
					t.Errorf("%s of %s: the bucket's file differs from the shared tree's", table, a)
				}
			}
		}
		if want := len(names) * (len(schema.ContractTables()) + 1); len(keys) != want {
			t.Errorf("%d objects, want %d", len(keys), want)
		}
	})

	t.Run("export to s3", func(t *testing.T) {
		code, out, errOut := runCmd(t, "export", "-config", shardCfg[0], "-out", "s3://lake/exported")
		if code != 0 || !strings.Contains(out, "uploaded") {
			t.Fatalf("export -out s3://: %d\n%s\n%s", code, out, errOut)
		}
		keys := srv.Keys(t, "lake", "exported/")
		for _, a := range inShard[0] {
			if !slices.Contains(keys, "exported/"+warehouse.ManifestKey(a)) {
				t.Errorf("no manifest for %s after export: %v", a, keys)
			}
		}
		if _, err := os.Stat("s3:"); !os.IsNotExist(err) {
			t.Error("export created a local s3: directory")
		}
	})

	t.Run("export to an unknown scheme", func(t *testing.T) {
		code, _, errOut := runCmd(t, "export", "-config", shardCfg[0], "-out", "gs://lake/x")
		if code != 1 || !strings.Contains(errOut, "not an s3:// URL") {
			t.Errorf("export -out gs://: %d %q", code, errOut)
		}
		if _, err := os.Stat("gs:"); !os.IsNotExist(err) {
			t.Error("export created a local gs: directory")
		}
	})

	t.Run("export with a wrong secret", func(t *testing.T) {
		t.Setenv("AWS_SECRET_ACCESS_KEY", "not-the-right-secret")
		code, _, errOut := runCmd(t, "export", "-config", shardCfg[1], "-out", "s3://lake/refused")
		if code != 1 || !strings.Contains(errOut, "SignatureDoesNotMatch") || !strings.Contains(errOut, "AWS_SECRET_ACCESS_KEY") {
			t.Errorf("export with a wrong secret: %d %q", code, errOut)
		}
		if strings.Contains(errOut, "not-the-right-secret") {
			t.Error("the error shows the secret")
		}
		if keys := srv.Keys(t, "lake", "refused/"); len(keys) != 0 {
			t.Errorf("visible after a refused export: %v", keys)
		}
	})

	lakePath := filepath.Join(dir, "lake.duckdb")
	// The configuration gives the lake the accounts' time zones, which the
	// Parquet tree does not carry.
	code, out, errOut := runCmd(t, "lake", "-config", shardCfg[0], "-parquet", root, "-out", lakePath)
	if code != 0 || !strings.Contains(out, lakePath) {
		t.Fatalf("lake: %d\n%s\n%s", code, out, errOut)
	}
	lake := warehousetest.OpenCopy(t, lakePath)
	combined := warehousetest.OpenCopy(t, filepath.Join(dir, "combined", "wh.duckdb"))

	ctx := context.Background()
	for _, m := range queries.List() {
		grains := m.Grains
		if len(grains) == 0 {
			grains = []string{""}
		}
		for _, g := range grains {
			// A metric with -all-jobs is compared on open jobs (its view) and
			// on every job.
			variants := []queries.Params{{Grain: g}}
			if m.Takes(queries.ParamAllJobs) {
				variants = append(variants, queries.Params{Grain: g, AllJobs: true})
			}
			for _, p := range variants {
				name := m.ViewName(g)
				if p.AllJobs {
					name += "_all_jobs"
				}
				t.Run(name, func(t *testing.T) {
					got, err := queries.Run(ctx, lake, m, p)
					if err != nil {
						t.Fatalf("over the lake: %v", err)
					}
					want, err := queries.Run(ctx, combined, m, p)
					if err != nil {
						t.Fatal(err)
					}
					// The fake's pipeline is covered by the default funnel rules, so
					// unmapped_stages is rightly empty; the fake's only open job has
					// no applications yet, so the pipeline on open jobs is rightly
					// empty too (the pipeline on every job has rows). Every other
					// metric must have rows, or the comparison proves nothing.
					rightlyEmpty := m.Name == "unmapped_stages" || (m.Takes(queries.ParamAllJobs) && !p.AllJobs)
					if len(want.Rows) == 0 && !rightlyEmpty {
						t.Fatal("the combined warehouse answers no rows: the comparison proves nothing")
					}
					// data_freshness reports when each warehouse's own runs ran:
					// the shard workers' runs and the combined one's differ in
					// time, not in what they found.
					skip := map[string]bool{}
					if m.Name == "data_freshness" {
						skip = map[string]bool{"last_success_at": true, "lag_hours": true, "last_complete_scan_at": true, "last_run_at": true}
					}
					if g, w := canonical(got, skip), canonical(want, skip); !slices.Equal(g, w) {
						t.Errorf("lake and combined warehouse differ:\nlake     %v\ncombined %v", g, w)
					}
					if p.AllJobs {
						return
					}
					// The metric view in the lake database is the same SQL.
					var n int
					if err := lake.QueryRow(`SELECT count(*) FROM ` + m.ViewName(g)).Scan(&n); err != nil || n != len(got.Rows) {
						t.Errorf("%s in the lake: %d rows, %v; want %d", m.ViewName(g), n, err, len(got.Rows))
					}
				})
			}
		}
	}

	t.Run("a new publish shows without rewriting the lake", func(t *testing.T) {
		before := warehousetest.Count(t, lake, `SELECT count(*) FROM sync_runs`)
		if code, out, errOut := runCmd(t, "sync", "-quiet", "-config", shardCfg[0], "-shard", "0/2"); code != 0 {
			t.Fatalf("sync: %d\n%s\n%s", code, out, errOut)
		}
		if after := warehousetest.Count(t, lake, `SELECT count(*) FROM sync_runs`); after != before+len(inShard[0]) {
			t.Errorf("sync_runs through the lake: %d, then %d; want %d more", before, after, len(inShard[0]))
		}
	})

	t.Run("s3 source", func(t *testing.T) {
		code, out, _ := runCmd(t, "lake", "-config", shardCfg[0], "-parquet", "s3://lake/hr", "-sql")
		for _, want := range []string{"LOAD httpfs", "PROVIDER credential_chain", "URL_STYLE 'path'",
			"read_parquet('s3://lake/hr/candidates/*/*.parquet'", "CREATE OR REPLACE VIEW metric_time_to_fill",
			"CREATE OR REPLACE VIEW metric_time_to_fill_by_job", "MACRO metric_params", "INSERT INTO accounts VALUES ('acme'"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("lake -sql for s3: %d, no %q in\n%.600s", code, want, out)
			}
		}
		if strings.Contains(out, s3test.SecretAccessKey) {
			t.Error("the SQL holds the secret key")
		}
		code, _, errOut := runCmd(t, "lake", "-parquet", "s3://lake/hr", "-out", filepath.Join(dir, "s3lake.duckdb"))
		if code != 1 || !strings.Contains(errOut, "httpfs") || !strings.Contains(errOut, "-sql") {
			t.Errorf("lake over s3 without httpfs: %d %q", code, errOut)
		}
	})
}

// canonical renders each row (without the skipped columns) as text, floats
// to 9 significant digits (aggregation order may change the last bits),
// times in UTC, and sorts the rows: ties in a metric's ORDER BY may come
// out in either order.
func canonical(r *queries.Result, skip map[string]bool) []string {
	var rows []string
	for _, row := range r.Rows {
		var b strings.Builder
		for i, v := range row {
			if skip[r.Columns[i]] {
				continue
			}
			switch x := v.(type) {
			case float64:
				if math.IsNaN(x) {
					b.WriteString("NaN")
				} else {
					fmt.Fprintf(&b, "%.9g", x)
				}
			case time.Time:
				b.WriteString(x.UTC().Format(time.RFC3339Nano))
			default:
				fmt.Fprint(&b, v)
			}
			b.WriteByte('|')
		}
		rows = append(rows, b.String())
	}
	slices.Sort(rows)
	return rows
}
