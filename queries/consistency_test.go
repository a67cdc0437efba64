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
	t.Parallel()
	if testing.Short() {
		t.Skip("generates 50,000 applications")
	}
	db := openWarehouse(t, "", genAccounts(3)...).SQL()
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
		for _, g := range []string{"account", "department", "source", "job"} {
			prev := map[string]int64{}
			for _, r := range records(run(t, db, "funnel_conversion", Params{Grain: g})) {
				k := fmt.Sprint(r["account_id"], r["job_id"], r["department"], r["source"])
				n := r["reached"].(int64)
				if p, ok := prev[k]; ok && n > p {
					t.Errorf("%s %s: %s reached %d > previous stage %d", g, k, r["funnel_stage"], n, p)
				}
				prev[k] = n
				if c, ok := r["conversion"].(float64); ok && (c < 0 || c > 1) {
					t.Errorf("%s %s: conversion %v", g, k, c)
				}
			}
		}
		live := count("SELECT count(*) FROM candidates WHERE remote_deleted_at IS NULL")
		var applied int64
		for _, n := range perAccount(funnel, record{"funnel_stage": "applied"}, "reached") {
			applied += n
		}
		if applied != live {
			t.Errorf("applied %d, live applications %d", applied, live)
		}
	})

	hired := perAccount(funnel, record{"funnel_stage": "hired"}, "reached")
	offered := perAccount(funnel, record{"funnel_stage": "offered"}, "reached")
	applied := perAccount(funnel, record{"funnel_stage": "applied"}, "reached")
	t.Run("hires agree across metrics", func(t *testing.T) {
		soh := run(t, db, "source_of_hire", Params{})
		oa := run(t, db, "offer_acceptance", Params{})
		checks := map[string]map[string]int64{
			"source_of_hire hires":      perAccount(soh, record{}, "hires"),
			"time_to_hire hires":        perAccount(run(t, db, "time_to_hire", Params{}), record{}, "hires"),
			"time_to_hire hires by job": perAccount(run(t, db, "time_to_hire", Params{Grain: "job"}), record{}, "hires"),
			"hiring_velocity by month":  perAccount(run(t, db, "hiring_velocity", Params{}), record{}, "hires"),
			"hiring_velocity by week":   perAccount(run(t, db, "hiring_velocity", Params{Grain: "week"}), record{}, "hires"),
			"offer_acceptance accepted": perAccount(oa, record{}, "accepted"),
		}
		for name, got := range checks {
			if fmt.Sprint(got) != fmt.Sprint(hired) {
				t.Errorf("%s %v, funnel hired %v", name, got, hired)
			}
		}
		if got := perAccount(oa, record{}, "offers"); fmt.Sprint(got) != fmt.Sprint(offered) {
			t.Errorf("offers %v, funnel offered %v", got, offered)
		}
		for a, h := range hired {
			if h > applied[a] || h == 0 {
				t.Errorf("%s: %d hires of %d applications", a, h, applied[a])
			}
		}
		for _, r := range records(oa) {
			if r["offers"].(int64) != r["accepted"].(int64)+r["declined"].(int64)+r["rescinded"].(int64)+r["pending"].(int64) {
				t.Errorf("offers do not add up: %v", r)
			}
		}
		if len(where(oa, record{"pending": int64(0)})) == len(oa.Rows) {
			t.Error("no pending offers generated")
		}
		for _, r := range records(run(t, db, "time_to_hire", Params{Grain: "source"})) {
			if m := r["median_days"].(float64); m < 0 {
				t.Errorf("negative time to hire: %v", r)
			}
		}
	})

	t.Run("time to fill is never negative", func(t *testing.T) {
		jobs := run(t, db, "time_to_fill", Params{Grain: "job"})
		filled, open := 0, int64(0)
		for _, r := range records(jobs) {
			for _, c := range []string{"days_to_first_hire", "median_days_per_hire", "open_days"} {
				if v, ok := number(r[c]); ok && v < 0 {
					t.Errorf("%s < 0: %v", c, r)
				}
			}
			if r["days_to_first_hire"] != nil {
				filled++
			}
			if r["open_days"] != nil {
				open++
			}
		}
		if filled == 0 || open == 0 {
			t.Errorf("%d filled and %d open jobs: the generator should make both", filled, open)
		}
		var rollup int64
		for _, r := range records(run(t, db, "time_to_fill", Params{})) {
			rollup += r["open_jobs"].(int64) + r["on_hold_jobs"].(int64)
		}
		aging := run(t, db, "open_jobs_aging", Params{})
		if int64(len(aging.Rows)) != open || rollup != open {
			t.Errorf("open_jobs_aging lists %d jobs, time_to_fill %d open or on hold (%d in roll-ups)", len(aging.Rows), open, rollup)
		}
	})

	t.Run("stage durations are ordered", func(t *testing.T) {
		for _, g := range []string{"funnel_stage", "stage"} {
			for _, r := range records(run(t, db, "stage_duration", Params{Grain: g})) {
				med, p90 := r["median_days"].(float64), r["p90_days"].(float64)
				if med < 0 || p90 < med || r["stints"].(int64) <= 0 || r["open_stints"].(int64) > r["stints"].(int64) {
					t.Errorf("%s: %v", g, r)
				}
			}
		}
	})

	t.Run("pipeline today matches current stages", func(t *testing.T) {
		// The generated history ends at each application's current stage.
		res := run(t, db, "pipeline_snapshot", Params{AllJobs: true})
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
		onOpen := perAccount(run(t, db, "pipeline_snapshot", Params{}), record{}, "open_applications")
		for a, n := range onOpen {
			if n == 0 || n >= got[a] {
				t.Errorf("%s: %d active applications on open jobs of %d on all jobs", a, n, got[a])
			}
		}
	})

	t.Run("past pipeline does not change", func(t *testing.T) {
		past := Params{AsOf: date("2023-06-30"), AllJobs: true}
		before := csvOf(t, run(t, db, "pipeline_snapshot", past))
		today := csvOf(t, run(t, db, "pipeline_snapshot", Params{AllJobs: true}))
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
			// New applications after as_of (07-01 12:00 UTC is 07-01 in
			// every account's zone), hired.
			`INSERT INTO candidates (account_id, candidate_id, job_id, stage, funnel_stage, applied_at, hired_at, first_seen_at, last_seen_at)
			 SELECT account_id, 'late' || i, job_id, 'Hired', 'hired', TIMESTAMPTZ '2023-07-01 12:00:00+00', TIMESTAMPTZ '2023-07-02 12:00:00+00', now(), now()
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
		if csvOf(t, run(t, db, "pipeline_snapshot", Params{AllJobs: true})) == today {
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
