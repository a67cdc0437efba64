package sync

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/schema"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// TestSyncer_noSecretsAnywhere syncs an account whose hires carry SSNs,
// DOBs and forms, with quarantined records and a failed run in its
// history, then looks for the token, the webhook secret and every sensitive
// value in every table, the logs, the Parquet tree and the published copy.
func TestSyncer_noSecretsAnywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 300, nil)
	e.s.Publish = true
	sub := e.tenant.Subdomain
	e.fake.SetFaults(sub, fake.Faults{MalformedRate: 0.05})
	e.mustRun(ModeBackfill)
	e.fake.SetFaults(sub, fake.Faults{FailPages: []fake.PageFault{{List: fake.ListHires, Page: 1, Times: 100}}})
	e.fastRetries()
	if res := e.run(ModeSync); res.Err == nil {
		t.Fatal("expected the hires failure")
	}
	e.fake.SetFaults(sub, fake.Faults{})
	if _, err := e.s.Run(context.Background(), e.account(), ModeSync); err != nil {
		t.Fatal(err)
	}

	secrets := []string{e.tenant.Token, e.tenant.WebhookSecret}
	sensitive, err := e.fake.Sensitive(sub)
	if err != nil || len(sensitive) < 10 {
		t.Fatalf("fake sensitive values: %d, %v", len(sensitive), err)
	}
	secrets = append(secrets, sensitive...)

	check := func(where, text string) {
		t.Helper()
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s contains a secret or sensitive value (%.3s…)", where, s)
			}
		}
	}
	tableText := func(db *sql.DB, from string) string {
		var b strings.Builder
		for _, table := range schema.ContractTables() {
			rows, err := db.Query(`SELECT COLUMNS(*)::VARCHAR FROM ` + strings.ReplaceAll(from, "%s", table))
			if err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			cols, _ := rows.Columns()
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					b.WriteString(v.String)
					b.WriteByte('|')
				}
			}
			rows.Close()
		}
		return b.String()
	}
	live := tableText(e.sql(), "%s")
	if !strings.Contains(live, "Hire Serial") || !strings.Contains(live, "Candidate Serial") {
		t.Fatal("the scan does not see remote_data")
	}
	check("the live warehouse", live)
	check("the logs", e.logs.String())
	check("the Parquet tree", tableText(e.sql(), "read_parquet('"+filepath.Join(e.cfg.Warehouse.ParquetDir, "%s", "*", "*.parquet")+"', hive_partitioning = true)"))

	check("the published copy", tableText(warehousetest.OpenCopy(t, e.cfg.Warehouse.PublishedPath), "%s"))

	filepath.Walk(e.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && !strings.HasSuffix(p, ".parquet") && !strings.Contains(p, "duckdb") {
			b, _ := os.ReadFile(p)
			check(p, string(b))
		}
		return nil
	})
	if n := e.count(`SELECT count(*) FROM rejected_records`); n == 0 {
		t.Error("no rejected records: the test does not cover quarantined payloads")
	}
}
