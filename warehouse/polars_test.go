package warehouse

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stackhouse/stackhouse/schema"
)

// TestDB_Publish_polars reads the published tree with a second engine that
// is not DuckDB: polars, through nodejs-polars (testdata/polars, installed
// by `npm ci` in .ci/run). Without node or the module the test is skipped,
// except in CI (CI=true), where it must run.
func TestDB_Publish_polars(t *testing.T) {
	dir, _ := filepath.Abs("testdata/polars")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "nodejs-polars-linux-x64-gnu"))
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node or nodejs-polars missing in CI (npm ci --prefix warehouse/testdata/polars): %v", err)
		}
		t.Skipf("node or nodejs-polars missing (npm ci --prefix warehouse/testdata/polars): %v", err)
	}
	ctx := context.Background()
	db := openTest(t)
	seed(t, db, "acme", 0, 5, t0)
	seed(t, db, "4242", 0, 3, t0) // an all-digit subdomain must stay a string
	root := t.TempDir()
	if _, err := db.Publish(ctx, PublishOptions{ParquetDir: root}); err != nil {
		t.Fatal(err)
	}
	tables := schema.ContractTables()
	cmd := exec.Command(node, append([]string{filepath.Join(dir, "read.js"), root}, tables...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("polars: %v\n%s", err, stderr)
	}
	var got map[string]struct {
		Rows   int
		Counts map[string]int
		Dtypes map[string]string
		JSONOK *bool
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("polars output %q: %v", out, err)
	}
	for _, table := range tables {
		g := got[table]
		want := liveCounts(t, db, table)
		if !reflect.DeepEqual(g.Counts, want) && !(len(g.Counts) == 0 && len(want) == 0) {
			t.Errorf("%s: polars counts %v, DuckDB %v", table, g.Counts, want)
		}
		if g.Dtypes["account_id"] != "DataType(String)" {
			t.Errorf("%s: account_id is %s in polars, want String", table, g.Dtypes["account_id"])
		}
		for c, dt := range g.Dtypes {
			if strings.HasPrefix(dt, "DataType(Datetime") && dt != "DataType(Datetime(us,UTC))" {
				t.Errorf("%s.%s: %s, want microseconds in UTC", table, c, dt)
			}
		}
		if _, ok := g.Dtypes["remote_data"]; ok && (g.JSONOK == nil || !*g.JSONOK) {
			t.Errorf("%s: remote_data does not read back as JSON in polars", table)
		}
	}
	t.Logf("polars read candidates: %+v", got["candidates"])
	if got["candidates"].Dtypes["applied_at"] != "DataType(Datetime(us,UTC))" {
		t.Errorf("candidates.applied_at in polars: %q", got["candidates"].Dtypes["applied_at"])
	}
}
