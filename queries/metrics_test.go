package queries

import (
	"testing"
)

// The expectations below are worked out by hand from handData
// (dataset_test.go); the arithmetic is in the comments. Day counts are
// differences of UTC calendar dates.

func TestTimeToFill(t *testing.T) {
	db := openHand(t)

	t.Run("as of 2024-06-30", func(t *testing.T) {
		res := run(t, db, "time_to_fill", Params{AsOf: asOf})
		// J1 opened 01-01, first hire A1 02-01: 31 days (January has 31).
		expect(t, one(t, res, record{"grain": "job", "job_id": "J1"}),
			record{"opened_on": "2024-01-01", "filled_on": "2024-02-01", "days_to_fill": 31, "open_days": nil})
		// J5 opened 2024-04-01 23:30-08 = 04-02 UTC; hired 05-01 01:00 UTC.
		// UTC dates 04-02 -> 05-01 = 29 days (local dates would give 30,
		// elapsed time 28d17h would give 28).
		expect(t, one(t, res, record{"grain": "job", "job_id": "J5"}),
			record{"opened_on": "2024-04-02", "days_to_fill": 29})
		// J2's only hire (A6) is on 07-10, after as_of: open, aged
		// 01-15 -> 06-30 = 16 + 29 + 31 + 30 + 31 + 30 = 167 days.
		expect(t, one(t, res, record{"grain": "job", "job_id": "J2"}),
			record{"filled_on": nil, "days_to_fill": nil, "open_days": 167, "status": "filled"})
		// J3 open with no hire: 03-01 -> 06-30 = 31 + 30 + 31 + 29 = 121.
		expect(t, one(t, res, record{"grain": "job", "job_id": "J3"}), record{"open_days": 121})
		// J4 closed with no hire (cancelled): neither filled nor open.
		if rs := where(res, record{"job_id": "J4"}); len(rs) != 0 {
			t.Errorf("cancelled job J4 listed: %v", rs)
		}
		// G1 opened 02-01; B1's hire on 01-20 predates it (earlier cycle),
		// so B2 on 02-11 fills it: 10 days. G3 is deleted.
		expect(t, one(t, res, record{"grain": "job", "job_id": "G1"}),
			record{"filled_on": "2024-02-11", "days_to_fill": 10})
		expect(t, one(t, res, record{"grain": "job", "job_id": "G2"}), record{"open_days": 60}) // 05-01 -> 06-30
		if rs := where(res, record{"job_id": "G3"}); len(rs) != 0 {
			t.Errorf("deleted job G3 listed: %v", rs)
		}
		// acme filled: J1 31, J5 29 -> median 30, p75 = 29 + 0.75*(31-29) = 30.5;
		// open J2, J3 are not averaged in.
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
			record{"filled_jobs": 2, "open_jobs": 2, "median_days": 30.0, "p75_days": 30.5})
		expect(t, one(t, res, record{"grain": "department", "account_id": "acme", "department": "Engineering"}),
			record{"filled_jobs": 2, "open_jobs": 1, "median_days": 30.0, "p75_days": 30.5})
		expect(t, one(t, res, record{"grain": "department", "department": "Sales"}),
			record{"filled_jobs": 0, "open_jobs": 1, "median_days": nil})
		expect(t, one(t, res, record{"grain": "location", "account_id": "acme", "location": "Berlin"}),
			record{"filled_jobs": 2, "open_jobs": 1, "median_days": 30.0})
		expect(t, one(t, res, record{"grain": "location", "account_id": "acme", "location": "Remote"}),
			record{"filled_jobs": 0, "open_jobs": 1})
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex"}),
			record{"filled_jobs": 1, "open_jobs": 1, "median_days": 10.0, "p75_days": 10.0})
		if len(res.Rows) != 14 { // 5 acme roll-ups + 4 acme jobs + 3 globex roll-ups + 2 globex jobs
			t.Errorf("got %d rows, want 14", len(res.Rows))
		}
	})

	t.Run("as of 2024-07-31", func(t *testing.T) {
		res := run(t, db, "time_to_fill", Params{AsOf: date("2024-07-31")})
		// J2 now filled on 07-10: 167 + 10 = 177 days. acme filled 29, 31, 177:
		// median 31, p75 at position 1.5 = 31 + 0.5*(177-31) = 104.
		expect(t, one(t, res, record{"grain": "job", "job_id": "J2"}), record{"days_to_fill": 177, "open_days": nil})
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
			record{"filled_jobs": 3, "open_jobs": 1, "median_days": 31.0, "p75_days": 104.0})
		expect(t, one(t, res, record{"grain": "job", "job_id": "J3"}), record{"open_days": 152}) // 121 + 31
	})

	t.Run("fill dates from 02-01 to 04-30", func(t *testing.T) {
		res := run(t, db, "time_to_fill", Params{From: date("2024-02-01"), To: date("2024-04-30"), AsOf: asOf})
		// J1 (02-01) and G1 (02-11) fill in range; J5 (05-01) does not and is
		// not open, so it is not listed. Open jobs are listed regardless.
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
			record{"filled_jobs": 1, "open_jobs": 2, "median_days": 31.0})
		if rs := where(res, record{"job_id": "J5"}); len(rs) != 0 {
			t.Errorf("J5 filled outside the range is listed: %v", rs)
		}
		expect(t, one(t, res, record{"grain": "job", "job_id": "G1"}), record{"days_to_fill": 10})
	})
}

func TestTimeToHire(t *testing.T) {
	db := openHand(t)
	res := run(t, db, "time_to_hire", Params{})
	// Hires, applied -> first hired event:
	//   A1 01-05 -> 02-01 = 27   (J1, LinkedIn)
	//   A4 01-12 -> 02-15 = 34   (J1, Indeed; rejected 01-16, then hired)
	//   A6 06-01 -> 07-10 = 39   (J2, LinkedIn)
	//   A11 04-10 -> 05-01 = 21  (J5, LinkedIn)
	//   B1 01-10 -> 01-20 = 10, B2 02-02 -> 02-11 = 9 (Indeed), B3 02-03 -> 02-20 = 17 (Referral)
	// acme [21 27 34 39]: median (27+34)/2 = 30.5; p75 at 2.25 = 34 + 0.25*5 = 35.25; mean 121/4.
	expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
		record{"hires": 4, "median_days": 30.5, "p75_days": 35.25, "mean_days": 30.25})
	// J1 [27 34]: median 30.5, p75 = 27 + 0.75*7 = 32.25.
	expect(t, one(t, res, record{"grain": "job", "job_id": "J1"}),
		record{"hires": 2, "median_days": 30.5, "p75_days": 32.25, "department": "Engineering"})
	// LinkedIn [21 27 39]: median 27, p75 at 1.5 = 27 + 0.5*12 = 33.
	expect(t, one(t, res, record{"grain": "source", "account_id": "acme", "source": "LinkedIn"}),
		record{"hires": 3, "median_days": 27.0, "p75_days": 33.0})
	expect(t, one(t, res, record{"grain": "source", "account_id": "acme", "source": "Indeed"}),
		record{"hires": 1, "median_days": 34.0})
	// globex [9 10 17]: median 10, p75 = 10 + 0.5*7 = 13.5. Indeed [9 10]: 9.5, 9.75.
	expect(t, one(t, res, record{"grain": "department", "account_id": "globex", "department": "Operations"}),
		record{"hires": 3, "median_days": 10.0, "p75_days": 13.5})
	expect(t, one(t, res, record{"grain": "source", "account_id": "globex", "source": "Indeed"}),
		record{"hires": 2, "median_days": 9.5, "p75_days": 9.75})

	t.Run("hire dates to 2024-06-30", func(t *testing.T) {
		res := run(t, db, "time_to_hire", Params{To: asOf})
		// A6 (hired 07-10) drops out: acme [21 27 34], median 27.
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}), record{"hires": 3, "median_days": 27.0})
	})
	t.Run("one account", func(t *testing.T) {
		res := run(t, db, "time_to_hire", Params{Account: "globex"})
		if n := len(where(res, record{"account_id": "acme"})); n != 0 || len(res.Rows) == 0 {
			t.Errorf("account filter: %d acme rows of %d", n, len(res.Rows))
		}
	})
}

func TestFunnelConversion(t *testing.T) {
	db := openHand(t)
	res := run(t, db, "funnel_conversion", Params{})
	reached := func(key record, want ...int) {
		t.Helper()
		for i, stage := range []string{"applied", "screened", "interviewed", "offered", "hired"} {
			k := record{"funnel_stage": stage}
			for c, v := range key {
				k[c] = v
			}
			expect(t, one(t, res, k), record{"reached": want[i], "stage_order": i + 1})
		}
	}
	// Furthest stage per acme application (A9 deleted):
	//   A1 hired, A2 interviewed (skipped screen), A3 offered (withdrew),
	//   A4 hired (rejected then hired), A5 applied, A6 hired, A7 applied
	//   (unmapped Talent Pool), A8 screened, A10 applied, A11 hired (skipped
	//   screen and interview), A12 screened (no history, current stage).
	// applied 11; screened: all but A5 A7 A10 = 8; interviewed: A1 A2 A3 A4
	// A6 A11 = 6; offered: A1 A3 A4 A6 A11 = 5; hired 4.
	reached(record{"grain": "account", "account_id": "acme"}, 11, 8, 6, 5, 4)
	acme := record{"grain": "account", "account_id": "acme"}
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "applied"})), record{"conversion": nil, "overall_conversion": 1.0})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "screened"})), record{"conversion": 8.0 / 11})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "interviewed"})), record{"conversion": 6.0 / 8})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "offered"})), record{"conversion": 5.0 / 6})
	expect(t, one(t, res, merge(acme, record{"funnel_stage": "hired"})), record{"conversion": 4.0 / 5, "overall_conversion": 4.0 / 11})
	// J1: A1 5, A2 3, A3 4, A4 5, A5 1.
	reached(record{"grain": "job", "job_id": "J1"}, 5, 4, 4, 3, 2)
	// Engineering = J1 + J2 (A6 5, A7 1) + J5 (A11 5, A12 2).
	reached(record{"grain": "department", "account_id": "acme", "department": "Engineering"}, 9, 7, 6, 5, 4)
	reached(record{"grain": "source", "account_id": "acme", "source": "Referral"}, 3, 3, 1, 0, 0) // A2 3, A8 2, A12 2
	reached(record{"grain": "source", "account_id": "acme", "source": "Indeed"}, 3, 1, 1, 1, 1)   // A4 5, A7 1, A10 1
	reached(record{"grain": "source", "account_id": "acme", "source": nil}, 1, 0, 0, 0, 0)        // A5, blank source
	// Referral offered 0 after interviewed 1: conversion 0; hired after 0 offered: NULL.
	ref := record{"grain": "source", "account_id": "acme", "source": "Referral"}
	expect(t, one(t, res, merge(ref, record{"funnel_stage": "offered"})), record{"conversion": 0.0})
	expect(t, one(t, res, merge(ref, record{"funnel_stage": "hired"})), record{"conversion": nil})
	// globex: B1 hired (straight from applied), B2 hired, B3 hired (skipped to
	// offer), B4 applied (Hold unmapped, rejected), B5 offered, B6 B7 applied.
	reached(record{"grain": "account", "account_id": "globex"}, 7, 4, 4, 4, 3)

	t.Run("applied in June", func(t *testing.T) {
		res := run(t, db, "funnel_conversion", Params{From: date("2024-06-01"), To: asOf})
		// acme A5 06-20, A6 06-01, A7 06-05; globex B6 06-29 and B7, applied
		// 07-01 02:00+05 = 06-30 21:00 UTC.
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme", "funnel_stage": "applied"}), record{"reached": 3})
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme", "funnel_stage": "hired"}), record{"reached": 1})
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex", "funnel_stage": "applied"}), record{"reached": 2})
		res = run(t, db, "funnel_conversion", Params{From: date("2024-06-01"), To: date("2024-06-29")})
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex", "funnel_stage": "applied"}), record{"reached": 1})
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
	db := openHand(t)
	res := run(t, db, "stage_duration", Params{AsOf: asOf})
	stage := func(account, name string, want record) {
		t.Helper()
		expect(t, one(t, res, record{"grain": "stage", "account_id": account, "stage": name}), want)
	}
	// acme New stints (entered -> next change, or -> as_of 06-30 if open):
	//   A1 01-05->01-08 3, A2 01-06->01-20 14, A3 01-10->01-12 2 (inserted out
	//   of order), A4 01-12->01-14 2, A5 06-20->06-30 10 (open), A6 06-01->06-10 9,
	//   A7 06-05->06-15 10, A8 03-03->03-05 2 (UTC dates; elapsed 1d17h),
	//   A10 02-05->02-06 1, A11 04-10->04-20 10; A9 deleted, A12 no history.
	// sorted 1 2 2 2 3 9 10 10 10 14: median (3+9)/2 = 6; p90 at 8.1 = 10 + 0.1*4 = 10.4;
	// mean 63/10.
	stage("acme", "New", record{"funnel_stage": "applied", "stints": 10, "open_stints": 1,
		"median_days": 6.0, "p90_days": 10.4, "mean_days": 6.3})
	// Phone Screen: A1 7, A3 8, A4 2, A8 03-05->06-30 = 117 (open):
	// median 7.5, p90 at 2.7 = 8 + 0.7*109 = 84.3.
	stage("acme", "Phone Screen", record{"stints": 4, "open_stints": 1, "median_days": 7.5, "p90_days": 84.3})
	// Interview: A1 10, A2 2, A3 16, A4 9, A6 15: median 10, p90 at 3.6 = 15.6.
	stage("acme", "Interview", record{"stints": 5, "open_stints": 0, "median_days": 10.0, "p90_days": 15.6})
	// Offer: A1 7, A3 5, A4 5, A6 06-25->06-30 5 (its hire on 07-10 is after
	// as_of), A11 11: median 5, p90 at 3.6 = 7 + 0.6*4 = 9.4.
	stage("acme", "Offer", record{"stints": 5, "open_stints": 1, "median_days": 5.0, "p90_days": 9.4})
	// A4's rejection lasted 01-16 -> 02-01 = 16 days before the rehire; other
	// terminal stages have no end and are not measured.
	stage("acme", "Not a Fit", record{"funnel_stage": "rejected", "stints": 1, "median_days": 16.0})
	if rs := where(res, record{"stage": "Hired"}); len(rs) != 0 {
		t.Errorf("terminal Hired stage measured: %v", rs)
	}
	stage("acme", "Talent Pool", record{"funnel_stage": nil, "stints": 1, "open_stints": 1, "median_days": 15.0})
	// funnel-stage roll-up equals the single stage mapped to it.
	expect(t, one(t, res, record{"grain": "funnel_stage", "account_id": "acme", "funnel_stage": "applied"}),
		record{"stints": 10, "median_days": 6.0, "stage": nil})
	// globex Applied: B1 10, B2 2, B3 12, B4 1, B5 7, B6 06-29->06-30 1,
	// B7 06-30 (UTC) -> 06-30 0: sorted 0 1 1 2 7 10 12, median 2, p90 at 5.4 = 10.8.
	stage("globex", "Applied", record{"stints": 7, "open_stints": 2, "median_days": 2.0, "p90_days": 10.8})
	stage("globex", "Screen", record{"stints": 2, "median_days": 12.0, "p90_days": 20.0}) // 2, 22
	stage("globex", "Offer", record{"stints": 3, "median_days": 4.0, "p90_days": 4.8})    // 3, 5, 4
	stage("globex", "Hold", record{"funnel_stage": nil, "stints": 1, "median_days": 2.0})

	t.Run("as of 2024-06-29", func(t *testing.T) {
		res := run(t, db, "stage_duration", Params{AsOf: date("2024-06-29")})
		// B7's event (06-30 UTC) is after as_of; B6 06-29->06-29 = 0.
		// Applied: 0 1 2 7 10 12 -> median 4.5.
		expect(t, one(t, res, record{"grain": "stage", "stage": "Applied"}), record{"stints": 6, "median_days": 4.5})
	})
	t.Run("entered in June", func(t *testing.T) {
		res := run(t, db, "stage_duration", Params{From: date("2024-06-01"), AsOf: asOf})
		// acme New entered in June: A5 10, A6 9, A7 10 -> median 10.
		expect(t, one(t, res, record{"grain": "stage", "account_id": "acme", "stage": "New"}),
			record{"stints": 3, "median_days": 10.0})
	})
}

func TestSourceOfHire(t *testing.T) {
	db := openHand(t)
	res := run(t, db, "source_of_hire", Params{})
	// acme has 4 hires (A1 A4 A6 A11).
	// LinkedIn: A1 A3 A6 A11 applied, all reached interviewed, 3 hired;
	// share 3/4, rate 3/4, days to hire 27 39 21 -> median 27.
	expect(t, one(t, res, record{"account_id": "acme", "source": "LinkedIn"}), record{"applicants": 4,
		"interviews": 4, "hires": 3, "share_of_hires": 0.75, "hire_rate": 0.75, "median_days_to_hire": 27.0})
	// Indeed: A4 A7 A10; only A4 interviewed and was hired (34 days).
	expect(t, one(t, res, record{"account_id": "acme", "source": "Indeed"}), record{"applicants": 3,
		"interviews": 1, "hires": 1, "share_of_hires": 0.25, "hire_rate": 1.0 / 3, "median_days_to_hire": 34.0})
	// Referral: A2 (interviewed) A8 A12: no hire.
	expect(t, one(t, res, record{"account_id": "acme", "source": "Referral"}), record{"applicants": 3,
		"interviews": 1, "hires": 0, "share_of_hires": 0.0, "hire_rate": 0.0, "median_days_to_hire": nil})
	expect(t, one(t, res, record{"account_id": "acme", "source": nil}), record{"applicants": 1, "hires": 0})
	// globex 3 hires. Indeed: B1 B2 B4 B5; B1 B2 B5 reached interviewed or
	// beyond; B1 B2 hired (10 and 9 days).
	expect(t, one(t, res, record{"account_id": "globex", "source": "Indeed"}), record{"applicants": 4,
		"interviews": 3, "hires": 2, "share_of_hires": 2.0 / 3, "hire_rate": 0.5, "median_days_to_hire": 9.5})
	expect(t, one(t, res, record{"account_id": "globex", "source": "Referral"}), record{"applicants": 2,
		"interviews": 1, "hires": 1, "share_of_hires": 1.0 / 3, "median_days_to_hire": 17.0})
	if len(res.Rows) != 7 {
		t.Errorf("got %d rows, want 7", len(res.Rows))
	}
}

func TestPipelineSnapshot(t *testing.T) {
	db := openHand(t)
	cases := []struct {
		asOf string
		want []record // account, stage, open, median days in stage, median days since applied
	}{
		// 06-30: acme A5 New since 06-20 (10 days, applied 10 ago); A8 Phone
		// Screen since 03-05 (117; applied 03-03, 119) and A12 with no history
		// at its current Phone Screen since applying 04-12 (79, 79): medians
		// 98 and 99; A6 Offer since 06-25 (5; applied 29 ago) although hired
		// 07-10; A7 in unmapped Talent Pool since 06-15 (15; 25). globex B6
		// (1 day) and B7 (applied 06-30 UTC, 0 days): 0.5.
		{"2024-06-30", []record{
			{"account_id": "acme", "funnel_stage": "applied", "open_applications": 1, "median_days_in_stage": 10.0, "median_days_since_applied": 10.0},
			{"account_id": "acme", "funnel_stage": "screened", "open_applications": 2, "median_days_in_stage": 98.0, "median_days_since_applied": 99.0},
			{"account_id": "acme", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 5.0, "median_days_since_applied": 29.0},
			{"account_id": "acme", "funnel_stage": nil, "open_applications": 1, "median_days_in_stage": 15.0, "median_days_since_applied": 25.0},
			{"account_id": "globex", "funnel_stage": "applied", "open_applications": 2, "median_days_in_stage": 0.5, "median_days_since_applied": 0.5},
		}},
		// 02-09: A4 back at Interview since 02-01 after its rejection (8 days;
		// applied 01-12, 28); A3 at Offer since 02-05 (4; applied 01-10, 30),
		// it withdraws 02-10; A1 hired, A2 and A10 rejected. globex B3 applied
		// 02-03 (6, 6), B2 at Offer since 02-08 (1; applied 02-02, 7).
		{"2024-02-09", []record{
			{"account_id": "acme", "funnel_stage": "interviewed", "open_applications": 1, "median_days_in_stage": 8.0, "median_days_since_applied": 28.0},
			{"account_id": "acme", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 4.0, "median_days_since_applied": 30.0},
			{"account_id": "globex", "funnel_stage": "applied", "open_applications": 1, "median_days_in_stage": 6.0, "median_days_since_applied": 6.0},
			{"account_id": "globex", "funnel_stage": "offered", "open_applications": 1, "median_days_in_stage": 1.0, "median_days_since_applied": 7.0},
		}},
		// 03-20: A8 Phone Screen since 03-05 (15; applied 03-03, 17) and A9,
		// deleted only on 04-01, at Interview since 03-10 (10; applied 03-05, 15).
		{"2024-03-20", []record{
			{"account_id": "acme", "funnel_stage": "screened", "open_applications": 1, "median_days_in_stage": 15.0, "median_days_since_applied": 17.0},
			{"account_id": "acme", "funnel_stage": "interviewed", "open_applications": 1, "median_days_in_stage": 10.0, "median_days_since_applied": 15.0},
		}},
	}
	for _, c := range cases {
		t.Run(c.asOf, func(t *testing.T) {
			res := run(t, db, "pipeline_snapshot", Params{AsOf: date(c.asOf)})
			if len(res.Rows) != len(c.want) {
				t.Errorf("got %d rows, want %d: %v", len(res.Rows), len(c.want), res.Rows)
			}
			for _, w := range c.want {
				expect(t, one(t, res, record{"account_id": w["account_id"], "funnel_stage": w["funnel_stage"]}), w)
			}
		})
	}
}
