package queries

import (
	"context"
	"database/sql"
	"testing"
)

// run runs the named metric or fails the test.
func run(tb testing.TB, db *sql.DB, name string, p Params) *Result {
	tb.Helper()
	m, err := Lookup(name)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := Run(context.Background(), db, m, p)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// one returns the single record matching key, failing the test otherwise.
func one(tb testing.TB, res *Result, key record) record {
	tb.Helper()
	rs := where(res, key)
	if len(rs) != 1 {
		tb.Fatalf("want 1 row where %v, got %d", key, len(rs))
	}
	return rs[0]
}

// expect checks that r holds every value in want.
func expect(tb testing.TB, r record, want record) {
	tb.Helper()
	for k, v := range want {
		got, ok := r[k]
		if !ok {
			tb.Errorf("no column %q in %v", k, r)
			continue
		}
		if !same(got, v) {
			tb.Errorf("%s: got %v (%T), want %v, in %v", k, got, got, v, r)
		}
	}
}
