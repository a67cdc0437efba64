package queries

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stackhouse/stackhouse/warehouse"
	"github.com/stackhouse/stackhouse/warehouse/warehousetest"
)

// TestViews_publishedCopy checks that the read-only copy BI tools open holds
// the shared definitions (macros, views, the accounts' calendars) and every
// metric view, answering as the live database does, and that Run works on
// the copy as the query command uses it when the live file is locked.
func TestViews_publishedCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	wh := openWarehouse(t, filepath.Join(dir, "live.duckdb"), handAccounts...)
	execSQL(t, wh.SQL(), handData)
	copyPath := filepath.Join(dir, "published.duckdb")
	if _, err := wh.Publish(ctx, warehouse.PublishOptions{ReadOnlyPath: copyPath}); err != nil {
		t.Fatal(err)
	}
	ro := warehousetest.OpenCopy(t, copyPath)
	var macros int
	if err := ro.QueryRow(`SELECT count(*) FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro')
		AND NOT internal AND function_name IN ('local_date', 'metric_params', 'hired_applications', 'application_states', 'job_state',
		'metric_args', 'jobs_at', 'binned_quantile')`).Scan(&macros); err != nil || macros != 8 {
		t.Errorf("shared macros in the copy: %d, %v", macros, err)
	}
	for _, m := range List() {
		for _, g := range grainsOf(m) {
			view := m.ViewName(g)
			query := func(db *sql.DB) string {
				t.Helper()
				rows, err := db.QueryContext(ctx, "SELECT * FROM "+view)
				if err != nil {
					t.Fatalf("%s: %v", view, err)
				}
				defer rows.Close()
				res, err := readRows(rows)
				if err != nil {
					t.Fatal(err)
				}
				dropColumn(res, "lag_hours")
				var b bytes.Buffer
				WriteCSV(&b, res)
				return b.String()
			}
			if live, pub := query(wh.SQL()), query(ro); live != pub {
				t.Errorf("%s differs in the copy:\ncopy:\n%s\nlive:\n%s", view, pub, live)
			}
		}
	}
	res := run(t, ro, "time_to_fill", Params{AsOf: asOf, Grain: "job"})
	expect(t, one(t, res, record{"job_id": "J5"}), record{"opened_on": "2024-04-02", "days_to_first_hire": 28})
}
