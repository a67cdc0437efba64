package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
)

// fakeAccount serves a fake account acme with jobs and candidates over
// loopback until t ends, and returns the tenant and the base URL.
func fakeAccount(t *testing.T, jobs, candidates int) (fake.Tenant, string) {
	t.Helper()
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates = jobs, candidates
	_, baseURL := faketest.Serve(t, ten)
	return ten, baseURL
}

// fastAccount is the account keys writeConfig uses when given none: a
// rate limit the fake never throttles.
const fastAccount = `    requests_per_second: 1000
    burst: 50
`

// writeConfig writes a configuration for account acme at baseURL with
// token (a value or an ${ENV} reference) into a new temporary directory
// and returns its path. The directory holds the warehouse (wh.duckdb), its
// published copy (pub.duckdb), Parquet (parquet) and files (files); in
// -short mode the warehouse runs one DuckDB thread.
// account is the account's other keys, each indented four spaces
// (fastAccount if ""); more is YAML added at the end, at the margin.
func writeConfig(t *testing.T, baseURL, token, account, more string) string {
	t.Helper()
	if account == "" {
		account = fastAccount
	}
	threads := 0 // DuckDB's default: a thread per core
	if testing.Short() {
		threads = 1 // on these small accounts more threads cost the edit-test loop CPU
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stackhouse.yaml")
	err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
warehouse:
  path: %[1]s/wh.duckdb
  published_path: %[1]s/pub.duckdb
  parquet_dir: %[1]s/parquet
  attachments_dir: %[1]s/files
  threads: %[4]d
accounts:
  - subdomain: acme
    token: %[3]s
    base_url: %[2]s
`, dir, baseURL, token, threads)+account+more), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
