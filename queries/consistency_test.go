package queries

import (
	"bytes"
	"fmt"
	"testing"
)

// TestConsistency checks invariants every metric must keep on a larger
// generated warehouse (50,000 applications, 3 accounts), where expected
// values cannot be worked out by hand.
func TestConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 50,000 applications")
	}
	db := openDB(t)
	generate(t, db, genSize{Accounts: 3, Jobs: 200, Apps: 50_000})
	count := func(q string) int64 {
		t.Helper()
		var n int64
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	perAccount := func(res *Result, key record, col string) map[string]int64 {
		out := map[string]int64{}
		for _, r := range where(res, key) {
			out[r["account_id"].(string)] += r[col].(int64)
		}
		return out
	}

	funnel := run(t, db, "funnel_conversion", Params{})
	t.Run("funnel never grows", func(t *testing.T) {
		prev := map[string]int64{}
		for _, r := range records(funnel) {
			k := fmt.Sprint(r["grain"], r["account_id"], r["job_id"], r["department"], r["source"])
			n := r["reached"].(int64)
			if p, ok := prev[k]; ok && n > p {
				t.Errorf("%s: %s reached %d > previous stage %d", k, r["funnel_stage"], n, p)
			}
			prev[k] = n
			if c, ok := r["conversion"].(float64); ok && (c < 0 || c > 1) {
				t.Errorf("%s: conversion %v", k, c)
			}
		}
		live := count("SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL")
		var applied int64
		for _, n := range perAccount(funnel, record{"grain": "account", "funnel_stage": "applied"}, "reached") {
			applied += n
		}
		if applied != live {
			t.Errorf("applied %d, live applications %d", applied, live)
		}
	})

	hired := perAccount(funnel, record{"grain": "account", "funnel_stage": "hired"}, "reached")
	offered := perAccount(funnel, record{"grain": "account", "funnel_stage": "offered"}, "reached")
	applied := perAccount(funnel, record{"grain": "account", "funnel_stage": "applied"}, "reached")
	t.Run("hires agree across metrics", func(t *testing.T) {
		soh := run(t, db, "source_of_hire", Params{})
		tth := run(t, db, "time_to_hire", Params{})
		hv := run(t, db, "hiring_velocity", Params{})
		oa := run(t, db, "offer_acceptance", Params{})
		checks := map[string]map[string]int64{
			"source_of_hire hires":      perAccount(soh, record{}, "hires"),
			"time_to_hire hires":        perAccount(tth, record{"grain": "account"}, "hires"),
			"hiring_velocity by month":  perAccount(hv, record{"grain": "month"}, "hires"),
			"hiring_velocity by week":   perAccount(hv, record{"grain": "week"}, "hires"),
			"offer_acceptance accepted": perAccount(oa, record{"grain": "account"}, "accepted"),
		}
		for name, got := range checks {
			if fmt.Sprint(got) != fmt.Sprint(hired) {
				t.Errorf("%s %v, funnel hired %v", name, got, hired)
			}
		}
		if got := perAccount(oa, record{"grain": "account"}, "offers"); fmt.Sprint(got) != fmt.Sprint(offered) {
			t.Errorf("offers %v, funnel offered %v", got, offered)
		}
		if got := perAccount(soh, record{}, "applicants"); fmt.Sprint(got) != fmt.Sprint(applied) {
			t.Errorf("source_of_hire applicants %v, funnel applied %v", got, applied)
		}
		for a, h := range hired {
			if h > applied[a] || h == 0 {
				t.Errorf("%s: %d hires of %d applications", a, h, applied[a])
			}
		}
		for _, r := range records(oa) {
			if r["offers"].(int64) != r["accepted"].(int64)+r["declined"].(int64)+r["pending"].(int64) {
				t.Errorf("offers do not add up: %v", r)
			}
		}
		if len(where(oa, record{"pending": int64(0)})) == len(oa.Rows) {
			t.Error("no pending offers generated")
		}
		for _, r := range records(tth) {
			if m := r["median_days"].(float64); m < 0 {
				t.Errorf("negative time to hire: %v", r)
			}
		}
	})

	t.Run("time to fill is never negative", func(t *testing.T) {
		res := run(t, db, "time_to_fill", Params{})
		filled, open := 0, 0
		for _, r := range records(res) {
			for _, c := range []string{"days_to_fill", "open_days", "median_days", "p75_days"} {
				if v, ok := number(r[c]); ok && v < 0 {
					t.Errorf("%s < 0: %v", c, r)
				}
			}
			if r["grain"] == "job" && r["days_to_fill"] != nil {
				filled++
			}
			if r["grain"] == "job" && r["open_days"] != nil {
				open++
			}
		}
		if filled == 0 || open == 0 {
			t.Errorf("%d filled and %d open jobs: the generator should make both", filled, open)
		}
		aging := run(t, db, "open_jobs_aging", Params{})
		if len(aging.Rows) != open {
			t.Errorf("open_jobs_aging lists %d jobs, time_to_fill %d open", len(aging.Rows), open)
		}
	})

	t.Run("stage durations are ordered", func(t *testing.T) {
		res := run(t, db, "stage_duration", Params{})
		for _, r := range records(res) {
			med, p90 := r["median_days"].(float64), r["p90_days"].(float64)
			if med < 0 || p90 < med || r["stints"].(int64) <= 0 || r["open_stints"].(int64) > r["stints"].(int64) {
				t.Errorf("%v", r)
			}
		}
	})

	t.Run("pipeline today matches current stages", func(t *testing.T) {
		// The generated history ends at each application's current stage.
		res := run(t, db, "pipeline_snapshot", Params{})
		got := perAccount(res, record{}, "open_applications")
		rows, err := db.Query(`SELECT account_id, count(*) FROM candidates
			WHERE remote_deleted_at IS NULL AND coalesce(funnel_stage, '') NOT IN ('hired', 'rejected', 'withdrawn')
			GROUP BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := readRows(rows)
		rows.Close()
		for _, r := range want.Rows {
			if got[r[0].(string)] != r[1].(int64) {
				t.Errorf("%s: pipeline %d, current open %d", r[0], got[r[0].(string)], r[1])
			}
		}
	})

	t.Run("past pipeline does not change", func(t *testing.T) {
		past := Params{AsOf: date("2023-06-30")}
		before := csvOf(t, run(t, db, "pipeline_snapshot", past))
		today := csvOf(t, run(t, db, "pipeline_snapshot", Params{}))
		execSQL(t, db,
			// Later events for applications open then: they are rejected a
			// year on, as the writer would record it.
			`CREATE TEMP TABLE moved AS
			 SELECT account_id, candidate_id, job_id FROM candidates
			 WHERE coalesce(funnel_stage, '') NOT IN ('hired', 'rejected', 'withdrawn') AND applied_at < TIMESTAMPTZ '2023-06-01 00:00:00+00'`,
			`INSERT INTO stage_events SELECT account_id, candidate_id, job_id, 'Not a Fit', 'rejected',
			 TIMESTAMPTZ '2024-07-01 00:00:00+00', NULL, 'observed' FROM moved`,
			`UPDATE candidates SET stage = 'Not a Fit', funnel_stage = 'rejected', rejected_at = TIMESTAMPTZ '2024-07-01 00:00:00+00'
			 WHERE (account_id, candidate_id) IN (SELECT account_id, candidate_id FROM moved)`,
			// New applications after as_of, one of them hired.
			`INSERT INTO candidates (account_id, candidate_id, job_id, stage, funnel_stage, applied_at, hired_at, first_seen_at, last_seen_at)
			 SELECT account_id, 'late' || i, job_id, 'Hired', 'hired', TIMESTAMPTZ '2023-07-01 00:00:00+00', TIMESTAMPTZ '2023-07-02 00:00:00+00', now(), now()
			 FROM (SELECT account_id, job_id, row_number() OVER () AS i FROM jobs) LIMIT 50`,
			`INSERT INTO stage_events SELECT account_id, candidate_id, job_id, 'Hired', 'hired', hired_at, NULL, 'note'
			 FROM candidates WHERE candidate_id LIKE 'late%'`,
			// A deletion after as_of.
			`UPDATE candidates SET remote_deleted_at = TIMESTAMPTZ '2023-08-01 00:00:00+00'
			 WHERE candidate_id IN (SELECT candidate_id FROM moved LIMIT 10)`,
		)
		if n := count("SELECT count(*) FROM moved"); n == 0 {
			t.Fatal("nothing was open at the snapshot date")
		}
		if after := csvOf(t, run(t, db, "pipeline_snapshot", past)); after != before {
			t.Errorf("snapshot of 2023-06-30 changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if csvOf(t, run(t, db, "pipeline_snapshot", Params{})) == today {
			t.Error("today's snapshot did not change: the later data had no effect")
		}
	})
}

func csvOf(tb testing.TB, r *Result) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}
