package queries

import (
	"testing"
)

// The expectations below are worked out by hand from handData
// (dataset_test.go); the arithmetic is in the comments. Days are
// differences of local calendar dates: acme's in California, globex's in
// UTC. TestOracle checks every metric far more widely; these pin examples a
// reader can follow.

func TestTimeToFill(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)

	t.Run("as of 2024-06-30", func(t *testing.T) {
		jobs := run(t, db, "time_to_fill", Params{AsOf: asOf, Grain: "job"})
		// J1 opened 01-01 02:00 PST; hires A1 02-01 and A4 02-15 (local):
		// first hire after 31 days, per hire 31 and 45 (median 38). Filled
		// on 02-20 by its status.
		expect(t, one(t, jobs, record{"job_id": "J1"}), record{"status": "filled", "opened_on": "2024-01-01",
			"first_hire_on": "2024-02-01", "days_to_first_hire": 31, "hires": 2, "median_days_per_hire": 38.0, "open_days": nil})
		// J5 opened 2024-04-01 23:30-08 = 04-02 00:30 PDT; A11 hired 05-01
		// 01:00 UTC = 04-30 18:00 PDT: 28 days (UTC dates would give
		// 04-02 -> 05-01 = 29).
		expect(t, one(t, jobs, record{"job_id": "J5"}), record{"opened_on": "2024-04-02", "first_hire_on": "2024-04-30",
			"days_to_first_hire": 28})
		// J2 opened 01-15 00:00 UTC = 01-14 16:00 PST. Its status is filled
		// now, but it was modified (filled) on 07-12: open at 06-30, aged
		// 01-14 -> 06-30 = 17 + 29 + 31 + 30 + 31 + 30 = 168 days. Its hire
		// (A6, 07-10) is after as_of.
		expect(t, one(t, jobs, record{"job_id": "J2"}), record{"status": "open", "opened_on": "2024-01-14",
			"first_hire_on": nil, "days_to_first_hire": nil, "hires": 0, "open_days": 168})
		expect(t, one(t, jobs, record{"job_id": "J3"}), record{"status": "open", "open_days": 121}) // 03-01 -> 06-30
		// J4 closed with no hire (cancelled): not listed. G1 opened 02-01;
		// B1's hire on 01-20 predates it (an earlier cycle), so B2 on 02-11
		// is its first hire (10 days), B3 on 02-20 its second (19). G3 is
		// deleted.
		for _, id := range []string{"J4", "G3"} {
			if rs := where(jobs, record{"job_id": id}); len(rs) != 0 {
				t.Errorf("%s listed: %v", id, rs)
			}
		}
		expect(t, one(t, jobs, record{"job_id": "G1"}), record{"first_hire_on": "2024-02-11", "days_to_first_hire": 10,
			"hires": 2, "median_days_per_hire": 14.5})
		expect(t, one(t, jobs, record{"job_id": "G2"}), record{"open_days": 60}) // 05-01 -> 06-30
		if len(jobs.Rows) != 6 {
			t.Errorf("got %d jobs, want 6", len(jobs.Rows))
		}

		res := run(t, db, "time_to_fill", Params{AsOf: asOf})
		// acme first hires J1 31, J5 28: median 29.5, p75 28 + 0.75*3 =
		// 30.25; per hire 28, 31, 45: median 31, p75 at 1.5 = 31 + 0.5*14 =
		// 38; open J2 and J3 are counted, not averaged in.
		expect(t, one(t, res, record{"account_id": "acme"}), record{"first_hires": 2, "median_days_to_first_hire": 29.5,
			"p75_days_to_first_hire": 30.25, "hires": 3, "median_days_per_hire": 31.0, "p75_days_per_hire": 38.0,
			"open_jobs": 2, "on_hold_jobs": 0})
		// globex: first 10; per hire 10, 19: median 14.5, p75 10 + 0.75*9 = 16.75.
		expect(t, one(t, res, record{"account_id": "globex"}), record{"first_hires": 1, "median_days_to_first_hire": 10.0,
			"hires": 2, "median_days_per_hire": 14.5, "p75_days_per_hire": 16.75, "open_jobs": 1})
		if len(res.Rows) != 2 || len(res.Columns) != 9 {
			t.Errorf("account grain: %d rows of %d columns, want 2 of 9", len(res.Rows), len(res.Columns))
		}
		dept := run(t, db, "time_to_fill", Params{AsOf: asOf, Grain: "department"})
		expect(t, one(t, dept, record{"account_id": "acme", "department": "Engineering"}),
			record{"first_hires": 2, "hires": 3, "open_jobs": 1})
		expect(t, one(t, dept, record{"department": "Sales"}), record{"first_hires": 0, "median_days_to_first_hire": nil, "open_jobs": 1})
		loc := run(t, db, "time_to_fill", Params{AsOf: asOf, Grain: "location"})
		expect(t, one(t, loc, record{"account_id": "acme", "location": "Remote"}), record{"first_hires": 0, "open_jobs": 1})
	})

	t.Run("as of 2024-07-31", func(t *testing.T) {
		res := run(t, db, "time_to_fill", Params{AsOf: date("2024-07-31"), Grain: "job"})
		// J2: A6 hired 07-10 (05:00 PDT), J2 filled 07-12: 168 + 10 = 178 days.
		expect(t, one(t, res, record{"job_id": "J2"}), record{"status": "filled", "days_to_first_hire": 178, "open_days": nil})
		expect(t, one(t, res, record{"job_id": "J3"}), record{"open_days": 152}) // 121 + 31
		acme := run(t, db, "time_to_fill", Params{AsOf: date("2024-07-31")})
		// first hires 28, 31, 178: median 31, p75 at 1.5 = 31 + 0.5*147 = 104.5.
		expect(t, one(t, acme, record{"account_id": "acme"}), record{"first_hires": 3, "median_days_to_first_hire": 31.0,
			"p75_days_to_first_hire": 104.5, "open_jobs": 1})
	})

	t.Run("hire dates from 02-01 to 04-30", func(t *testing.T) {
		res := run(t, db, "time_to_fill", Params{From: date("2024-02-01"), To: date("2024-04-30"), AsOf: asOf, Grain: "job"})
		// A11's hire, 05-01 01:00 UTC, is on 04-30 in California: in the
		// range, so J5 is listed with its 28 days.
		expect(t, one(t, res, record{"job_id": "J5"}), record{"days_to_first_hire": 28, "hires": 1})
		expect(t, one(t, res, record{"job_id": "G1"}), record{"days_to_first_hire": 10, "hires": 2})
		res = run(t, db, "time_to_fill", Params{From: date("2024-02-12"), To: date("2024-04-30"), AsOf: asOf, Grain: "job"})
		// From 02-12: J1's first hire (02-01) is outside, its second (A4,
		// 02-15, 45 days) inside.
		expect(t, one(t, res, record{"job_id": "J1"}), record{"first_hire_on": "2024-02-01", "days_to_first_hire": nil,
			"hires": 1, "median_days_per_hire": 45.0})
	})

	t.Run("a requisition stays open through its hires", func(t *testing.T) {
		db := openHand(t)
		execSQL(t, db, `UPDATE jobs SET status = 'open' WHERE job_id = 'J1'`)
		res := run(t, db, "time_to_fill", Params{AsOf: asOf, Grain: "job"})
		expect(t, one(t, res, record{"job_id": "J1"}), record{"status": "open", "days_to_first_hire": 31, "hires": 2,
			"open_days": 181})
		expect(t, one(t, run(t, db, "time_to_fill", Params{AsOf: asOf}), record{"account_id": "acme"}),
			record{"first_hires": 2, "open_jobs": 3})
	})
}

func TestTimeToHire(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "time_to_hire", Params{})
	// Hires, local application date -> local hire date:
	//   A1 01-05 -> 02-01 = 27   (J1, LinkedIn)
	//   A4 01-12 -> 02-15 = 34   (J1, Indeed; rejected 01-16, then hired)
	//   A6 06-01 -> 07-10 = 39   (J2, LinkedIn)
	//   A11 04-10 -> 04-30 = 20  (J5, LinkedIn; hired 05-01 01:00 UTC = 04-30 in California)
	//   B1 01-10 -> 01-20 = 10, B2 02-02 -> 02-11 = 9 (Indeed), B3 02-03 -> 02-20 = 17 (Referral)
	// acme [20 27 34 39]: median 30.5; p75 at 2.25 = 34 + 0.25*5 = 35.25; mean 120/4.
	expect(t, one(t, res, record{"account_id": "acme"}),
		record{"hires": 4, "median_days": 30.5, "p75_days": 35.25, "mean_days": 30.0})
	jobs := run(t, db, "time_to_hire", Params{Grain: "job"})
	// J1 [27 34]: median 30.5, p75 = 27 + 0.75*7 = 32.25.
	expect(t, one(t, jobs, record{"job_id": "J1"}),
		record{"hires": 2, "median_days": 30.5, "p75_days": 32.25, "department": "Engineering"})
	sources := run(t, db, "time_to_hire", Params{Grain: "source"})
	// LinkedIn [20 27 39]: median 27, p75 at 1.5 = 27 + 0.5*12 = 33.
	expect(t, one(t, sources, record{"account_id": "acme", "source": "LinkedIn"}),
		record{"hires": 3, "median_days": 27.0, "p75_days": 33.0})
	expect(t, one(t, sources, record{"account_id": "acme", "source": "Indeed"}), record{"hires": 1, "median_days": 34.0})
	// globex [9 10 17]: median 10, p75 = 10 + 0.5*7 = 13.5. Indeed [9 10]: 9.5, 9.75.
	expect(t, one(t, run(t, db, "time_to_hire", Params{Grain: "department"}), record{"account_id": "globex", "department": "Operations"}),
		record{"hires": 3, "median_days": 10.0, "p75_days": 13.5})
	expect(t, one(t, sources, record{"account_id": "globex", "source": "Indeed"}),
		record{"hires": 2, "median_days": 9.5, "p75_days": 9.75})

	t.Run("hire dates to 2024-06-30", func(t *testing.T) {
		res := run(t, db, "time_to_hire", Params{To: asOf})
		// A6 (hired 07-10) drops out: acme [20 27 34], median 27.
		expect(t, one(t, res, record{"account_id": "acme"}), record{"hires": 3, "median_days": 27.0})
	})
	t.Run("as of 2024-06-30", func(t *testing.T) {
		// A6 is not hired yet, whatever the period.
		expect(t, one(t, run(t, db, "time_to_hire", Params{AsOf: asOf}), record{"account_id": "acme"}), record{"hires": 3})
	})
	t.Run("one account", func(t *testing.T) {
		res := run(t, db, "time_to_hire", Params{Account: "globex"})
		if n := len(where(res, record{"account_id": "acme"})); n != 0 || len(res.Rows) != 1 {
			t.Errorf("account filter: %d acme rows of %d", n, len(res.Rows))
		}
	})
}

func TestFunnelConversion(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	reached := func(res *Result, key record, want ...int) {
		t.Helper()
		for i, stage := range []string{"applied", "screened", "interviewed", "offered", "hired"} {
			expect(t, one(t, res, merge(key, record{"funnel_stage": stage})), record{"reached": want[i], "stage_order": i + 1})
		}
	}
	res := run(t, db, "funnel_conversion", Params{})
	// Furthest stage per acme application (A9 deleted):
	//   A1 hired, A2 interviewed (skipped screen), A3 offered (withdrew),
	//   A4 hired (rejected then hired), A5 applied, A6 hired, A7 applied
	//   (unmapped Talent Pool), A8 screened, A10 applied, A11 hired (skipped
	//   screen and interview), A12 screened (no history, current stage).
	// applied 11; screened: all but A5 A7 A10 = 8; interviewed: A1 A2 A3 A4
	// A6 A11 = 6; offered: A1 A3 A4 A6 A11 = 5; hired 4.
	reached(res, record{"account_id": "acme"}, 11, 8, 6, 5, 4)
	acme := record{"account_id": "acme"}
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "applied"})), record{"conversion": nil, "overall_conversion": 1.0})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "screened"})), record{"conversion": 8.0 / 11})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "interviewed"})), record{"conversion": 6.0 / 8})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "offered"})), record{"conversion": 5.0 / 6})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "hired"})), record{"conversion": 4.0 / 5, "overall_conversion": 4.0 / 11})
	// J1: A1 5, A2 3, A3 4, A4 5, A5 1.
	reached(run(t, db, "funnel_conversion", Params{Grain: "job"}), record{"job_id": "J1"}, 5, 4, 4, 3, 2)
	// Engineering = J1 + J2 (A6 5, A7 1) + J5 (A11 5, A12 2).
	reached(run(t, db, "funnel_conversion", Params{Grain: "department"}),
		record{"account_id": "acme", "department": "Engineering"}, 9, 7, 6, 5, 4)
	src := run(t, db, "funnel_conversion", Params{Grain: "source"})
	reached(src, record{"account_id": "acme", "source": "Referral"}, 3, 3, 1, 0, 0) // A2 3, A8 2, A12 2
	reached(src, record{"account_id": "acme", "source": "Indeed"}, 3, 1, 1, 1, 1)   // A4 5, A7 1, A10 1
	reached(src, record{"account_id": "acme", "source": nil}, 1, 0, 0, 0, 0)        // A5, blank source
	// Referral offered 0 after interviewed 1: conversion 0; hired after 0 offered: NULL.
	ref := record{"account_id": "acme", "source": "Referral"}
	expect(t, one(t, src, merge(ref, record{"funnel_stage": "offered"})), record{"conversion": 0.0})
	expect(t, one(t, src, merge(ref, record{"funnel_stage": "hired"})), record{"conversion": nil})
	// globex: B1 hired (straight from applied), B2 hired, B3 hired (skipped to
	// offer), B4 applied (Hold unmapped, rejected), B5 offered, B6 B7 applied.
	reached(res, record{"account_id": "globex"}, 7, 4, 4, 4, 3)

	t.Run("applied in June", func(t *testing.T) {
		res := run(t, db, "funnel_conversion", Params{From: date("2024-06-01"), To: asOf})
		// acme A5 06-20, A6 06-01, A7 06-05; globex B6 06-29 and B7, applied
		// 07-01 02:00+05 = 06-30 21:00 UTC.
		expect(t, one(t, res, record{"account_id": "acme", "funnel_stage": "applied"}), record{"reached": 3})
		expect(t, one(t, res, record{"account_id": "acme", "funnel_stage": "hired"}), record{"reached": 1})
		expect(t, one(t, res, record{"account_id": "globex", "funnel_stage": "applied"}), record{"reached": 2})
		res = run(t, db, "funnel_conversion", Params{From: date("2024-06-01"), To: date("2024-06-29")})
		expect(t, one(t, res, record{"account_id": "globex", "funnel_stage": "applied"}), record{"reached": 1})
	})
	t.Run("as of 2024-06-30", func(t *testing.T) {
		// A6 is at Offer until its hire on 07-10.
		reached(run(t, db, "funnel_conversion", Params{AsOf: asOf}), record{"account_id": "acme"}, 11, 8, 6, 5, 3)
	})
}

func merge(a, b record) record {
	out := record{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestStageDuration(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "stage_duration", Params{AsOf: asOf, Grain: "stage"})
	stage := func(res *Result, account, name string, want record) {
		t.Helper()
		expect(t, one(t, res, record{"account_id": account, "stage": name}), want)
	}
	// acme New stints, local dates (entered -> next change, or -> as_of
	// 06-30 if open):
	//   A1 01-05->01-08 3, A2 01-06->01-20 14, A3 01-10->01-12 2 (inserted out
	//   of order), A4 01-12->01-14 2, A5 06-20->06-30 10 (open), A6 06-01->06-10 9,
	//   A7 06-05->06-15 10, A8 03-02->03-04 2 (23:30 PST, then 16:30 PST),
	//   A10 02-05->02-06 1, A11 04-10->04-20 10; A9 deleted, A12 no history.
	// sorted 1 2 2 2 3 9 10 10 10 14: median (3+9)/2 = 6; p90 at 8.1 = 10 + 0.1*4 = 10.4;
	// mean 63/10.
	stage(res, "acme", "New", record{"funnel_stage": "applied", "stints": 10, "open_stints": 1,
		"median_days": 6.0, "p90_days": 10.4, "mean_days": 6.3})
	// Phone Screen: A1 7, A3 8, A4 2, A8 03-04->06-30 = 118 (open):
	// median 7.5, p90 at 2.7 = 8 + 0.7*110 = 85.
	stage(res, "acme", "Phone Screen", record{"stints": 4, "open_stints": 1, "median_days": 7.5, "p90_days": 85.0})
	// Interview: A1 10, A2 2, A3 16, A4 9, A6 15: median 10, p90 at 3.6 = 15.6.
	stage(res, "acme", "Interview", record{"stints": 5, "open_stints": 0, "median_days": 10.0, "p90_days": 15.6})
	// Offer: A1 7, A3 5, A4 5, A6 06-25->06-30 5 (its hire on 07-10 is after
	// as_of), A11 04-20 -> 04-30 10 (hired 05-01 01:00 UTC, 04-30 in
	// California): median 5, p90 at 3.6 = 7 + 0.6*3 = 8.8.
	stage(res, "acme", "Offer", record{"stints": 5, "open_stints": 1, "median_days": 5.0, "p90_days": 8.8})
	// A4's rejection lasted 01-16 -> 02-01 = 16 days before the rehire; other
	// terminal stages have no end and are not measured.
	stage(res, "acme", "Not a Fit", record{"funnel_stage": "rejected", "stints": 1, "median_days": 16.0})
	if rs := where(res, record{"stage": "Hired"}); len(rs) != 0 {
		t.Errorf("terminal Hired stage measured: %v", rs)
	}
	stage(res, "acme", "Talent Pool", record{"funnel_stage": nil, "stints": 1, "open_stints": 1, "median_days": 15.0})
	// globex Applied: B1 10, B2 2, B3 12, B4 1, B5 7, B6 06-29->06-30 1,
	// B7 06-30 (UTC) -> 06-30 0: sorted 0 1 1 2 7 10 12, median 2, p90 at 5.4 = 10.8.
	stage(res, "globex", "Applied", record{"stints": 7, "open_stints": 2, "median_days": 2.0, "p90_days": 10.8})
	stage(res, "globex", "Screen", record{"stints": 2, "median_days": 12.0, "p90_days": 20.0}) // 2, 22
	stage(res, "globex", "Offer", record{"stints": 3, "median_days": 4.0, "p90_days": 4.8})    // 3, 5, 4
	stage(res, "globex", "Hold", record{"funnel_stage": nil, "stints": 1, "median_days": 2.0})

	t.Run("funnel stages merge consecutive stints", func(t *testing.T) {
		db := openHand(t)
		// A3 moves from Phone Screen to Manager Review (both screened) on
		// 01-14, then to Interview on 01-20.
		execSQL(t, db, `INSERT INTO stage_events VALUES ('acme', 'A3', 'J1', 'Manager Review', 'screened', '2024-01-14 08:00:00+00', NULL, 'note')`)
		byStage := run(t, db, "stage_duration", Params{AsOf: asOf, Grain: "stage"})
		// Phone Screen: A1 7, A3 01-12 -> 01-14 2, A4 2, A8 118; Manager Review: A3 6.
		stage(byStage, "acme", "Phone Screen", record{"stints": 4, "median_days": 4.5})
		stage(byStage, "acme", "Manager Review", record{"stints": 1, "median_days": 6.0})
		res := run(t, db, "stage_duration", Params{AsOf: asOf})
		// In screened, A3 spent 01-12 -> 01-20 = 8 days, one stint: A1 7, A3
		// 8, A4 2, A8 118, as without the move; pooling the stage names
		// would give 5 stints.
		expect(t, one(t, res, record{"account_id": "acme", "funnel_stage": "screened"}),
			record{"stage_order": 2, "stints": 4, "open_stints": 1, "median_days": 7.5, "p90_days": 85.0, "mean_days": 33.75})
		expect(t, one(t, res, record{"account_id": "acme", "funnel_stage": "applied"}), record{"stints": 10, "median_days": 6.0})
		expect(t, one(t, res, record{"account_id": "acme", "funnel_stage": nil}), record{"stage_order": nil, "stints": 1})
	})
	t.Run("as of 2024-06-29", func(t *testing.T) {
		res := run(t, db, "stage_duration", Params{AsOf: date("2024-06-29"), Grain: "stage"})
		// B7's change (06-30 UTC) is after as_of; B6 06-29->06-29 = 0.
		// Applied: 0 1 2 7 10 12 -> median 4.5.
		expect(t, one(t, res, record{"account_id": "globex", "stage": "Applied"}), record{"stints": 6, "median_days": 4.5})
	})
	t.Run("entered in June", func(t *testing.T) {
		res := run(t, db, "stage_duration", Params{From: date("2024-06-01"), AsOf: asOf, Grain: "stage"})
		// acme New entered in June: A5 10, A6 9, A7 10 -> median 10.
		stage(res, "acme", "New", record{"stints": 3, "median_days": 10.0})
	})
}

func TestSourceOfHire(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "source_of_hire", Params{})
	// acme hires: A1 LinkedIn (27 days), A4 Indeed (34), A6 LinkedIn (39),
	// A11 LinkedIn (20). LinkedIn 3 of 4 hires, median 27.
	expect(t, one(t, res, record{"account_id": "acme", "source": "LinkedIn"}),
		record{"hires": 3, "share_of_hires": 0.75, "median_days_to_hire": 27.0})
	expect(t, one(t, res, record{"account_id": "acme", "source": "Indeed"}),
		record{"hires": 1, "share_of_hires": 0.25, "median_days_to_hire": 34.0})
	// globex: B1 (10 days) and B2 (9) from Indeed, B3 (17) from Referral.
	expect(t, one(t, res, record{"account_id": "globex", "source": "Indeed"}),
		record{"hires": 2, "share_of_hires": 2.0 / 3, "median_days_to_hire": 9.5})
	expect(t, one(t, res, record{"account_id": "globex", "source": "Referral"}),
		record{"hires": 1, "share_of_hires": 1.0 / 3, "median_days_to_hire": 17.0})
	if len(res.Rows) != 4 { // sources without a hire are not listed
		t.Errorf("got %d rows, want 4", len(res.Rows))
	}

	t.Run("hires made in the period, whenever they applied", func(t *testing.T) {
		res := run(t, db, "source_of_hire", Params{From: date("2024-04-15"), To: date("2024-07-15")})
		// A11 applied 04-10, before the period, and was hired 04-30; A6
		// applied 06-01 and was hired 07-10: both are hires of the period.
		expect(t, one(t, res, record{"account_id": "acme", "source": "LinkedIn"}),
			record{"hires": 2, "share_of_hires": 1.0, "median_days_to_hire": 29.5})
		if len(res.Rows) != 1 {
			t.Errorf("got %v", res.Rows)
		}
	})
}

func TestPipelineSnapshot(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	cases := []struct {
		asOf    string
		allJobs bool
		want    []record // account, stage, open, median days in stage, median days since applied
	}{
		// 06-30, open jobs: J2 (filled only on 07-12), J3, G2. acme A8 on J3
		// in Phone Screen since 03-04 (118 days; applied 03-02, 120); A6 on J2
		// at Offer since 06-25 (5; applied 29 ago) although hired 07-10; A7 on
		// J2 in unmapped Talent Pool since 06-15 (15; 25). A5 (J1, filled
		// 02-20) and A12 (J5, filled 05-03) are on jobs no longer open.
		// globex B6 (1 day) and B7 (applied 06-30 UTC, 0 days): 0.5.
		{"2024-06-30", false, []record{
			{"account_id": "acme", "funnel_stage": "screened", "open_applications": 1, "median_days_in_stage": 118.0, "median_days_since_applied": 120.0},
			{"account_id": "acme", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 5.0, "median_days_since_applied": 29.0},
			{"account_id": "acme", "funnel_stage": nil, "open_applications": 1, "median_days_in_stage": 15.0, "median_days_since_applied": 25.0},
			{"account_id": "globex", "funnel_stage": "applied", "open_applications": 2, "median_days_in_stage": 0.5, "median_days_since_applied": 0.5},
		}},
		// With all jobs: A5 in New since 06-20 (10, 10) and A12, with no
		// history, at Phone Screen since applying 04-12 (79, 79): screened
		// medians (118 + 79)/2 = 98.5 and (120 + 79)/2 = 99.5.
		{"2024-06-30", true, []record{
			{"account_id": "acme", "funnel_stage": "applied", "open_applications": 1, "median_days_in_stage": 10.0, "median_days_since_applied": 10.0},
			{"account_id": "acme", "funnel_stage": "screened", "open_applications": 2, "median_days_in_stage": 98.5, "median_days_since_applied": 99.5},
			{"account_id": "acme", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 5.0, "median_days_since_applied": 29.0},
			{"account_id": "acme", "funnel_stage": nil, "open_applications": 1, "median_days_in_stage": 15.0, "median_days_since_applied": 25.0},
			{"account_id": "globex", "funnel_stage": "applied", "open_applications": 2, "median_days_in_stage": 0.5, "median_days_since_applied": 0.5},
		}},
		// 02-09, open jobs J1, J2, J4, G1: A4 back at Interview since 02-01
		// after its rejection (8 days; applied 01-12, 28); A3 at Offer since
		// 02-05 (4; applied 01-10, 30), it withdraws 02-10; A1 hired, A2 and
		// A10 rejected. globex B3 applied 02-03 (6, 6), B2 at Offer since 02-08
		// (1; applied 02-02, 7).
		{"2024-02-09", false, []record{
			{"account_id": "acme", "funnel_stage": "interviewed", "open_applications": 1, "median_days_in_stage": 8.0, "median_days_since_applied": 28.0},
			{"account_id": "acme", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 4.0, "median_days_since_applied": 30.0},
			{"account_id": "globex", "funnel_stage": "applied", "open_applications": 1, "median_days_in_stage": 6.0, "median_days_since_applied": 6.0},
			{"account_id": "globex", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 1.0, "median_days_since_applied": 7.0},
		}},
		// 03-20: A8 in Phone Screen since 03-04 (16; applied 03-02, 18) and
		// A9, deleted only on 04-01, at Interview since 03-10 (10; applied
		// 03-05, 15).
		{"2024-03-20", false, []record{
			{"account_id": "acme", "funnel_stage": "screened", "open_applications": 1, "median_days_in_stage": 16.0, "median_days_since_applied": 18.0},
			{"account_id": "acme", "funnel_stage": "interviewed", "open_applications": 1, "median_days_in_stage": 10.0, "median_days_since_applied": 15.0},
		}},
	}
	for _, c := range cases {
		t.Run(c.asOf, func(t *testing.T) {
			res := run(t, db, "pipeline_snapshot", Params{AsOf: date(c.asOf), AllJobs: c.allJobs})
			if len(res.Rows) != len(c.want) {
				t.Errorf("got %d rows, want %d: %v", len(res.Rows), len(c.want), res.Rows)
			}
			for _, w := range c.want {
				expect(t, one(t, res, record{"account_id": w["account_id"], "funnel_stage": w["funnel_stage"]}), w)
			}
		})
	}
	t.Run("days in a funnel stage count from entering it", func(t *testing.T) {
		db := openHand(t)
		// A8 moves on from Phone Screen to Manager Review (also screened) on 06-01.
		execSQL(t, db, `INSERT INTO stage_events VALUES ('acme', 'A8', 'J3', 'Manager Review', 'screened', '2024-06-01 16:00:00+00', NULL, 'note')`)
		res := run(t, db, "pipeline_snapshot", Params{AsOf: asOf})
		expect(t, one(t, res, record{"account_id": "acme", "funnel_stage": "screened"}), record{"median_days_in_stage": 118.0})
	})
}
