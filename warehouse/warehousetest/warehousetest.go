// Package warehousetest reads DuckDB files for tests as their users do:
// the published copy opened read-only, as a BI tool opens it, and queries
// that answer one number.
package warehousetest

import (
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver
)

// OpenCopy opens the DuckDB file at path (a published copy) read-only and
// closes it when t ends.
func OpenCopy(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Count returns the one integer q answers on db, failing t if q fails.
func Count(t testing.TB, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
