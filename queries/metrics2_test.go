package queries

import (
	"math"
	"testing"
	"time"
)

func TestApplicantsPerOpening(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)

	t.Run("all time", func(t *testing.T) {
		res := run(t, db, "applicants_per_opening", Params{})
		// Every live job was open at some time: acme J1..J5 = 5 openings
		// with 11 applications (A9 deleted) -> 2.2. A5 is A1 applying to J1
		// again, so J1 has 5 applications but 4 people; A3 and A6 share a
		// person but apply to different jobs, so both count.
		expect(t, one(t, res, record{"account_id": "acme"}), record{"openings": 5, "applications": 11,
			"deduplicated_applications": 10, "applicants_per_opening": 2.2, "unmatched_applications": 0})
		jobs := run(t, db, "applicants_per_opening", Params{Grain: "job"})
		expect(t, one(t, jobs, record{"job_id": "J1"}),
			record{"applications": 5, "deduplicated_applications": 4, "applicants_per_opening": 5.0})
		expect(t, one(t, jobs, record{"job_id": "J3"}), record{"applications": 1}) // A9 deleted
		// Engineering: J1 5 + J2 2 + J5 2 = 9 over 3 openings.
		expect(t, one(t, run(t, db, "applicants_per_opening", Params{Grain: "department"}),
			record{"account_id": "acme", "department": "Engineering"}),
			record{"openings": 3, "applications": 9, "deduplicated_applications": 8, "applicants_per_opening": 3.0})
		// globex G1 G2 (G3 deleted), 7 applications -> 3.5.
		expect(t, one(t, res, record{"account_id": "globex"}),
			record{"openings": 2, "applications": 7, "applicants_per_opening": 3.5})
	})

	t.Run("June", func(t *testing.T) {
		p := Params{From: date("2024-06-01"), To: asOf}
		res := run(t, db, "applicants_per_opening", p)
		// Open on some day of June, by status: J2 (filled only on 07-12) and
		// J3; not J1 (filled 02-20), J4 (closed 02-20), J5 (filled 05-03).
		// June's applications: A6 A7 to J2, none to J3: 2 / 2 = 1.0; A5
		// applied to J1, not open in June: unmatched, in neither side of
		// the ratio.
		expect(t, one(t, res, record{"account_id": "acme"}), record{"openings": 2, "applications": 2,
			"applicants_per_opening": 1.0, "unmatched_applications": 1})
		dept := run(t, db, "applicants_per_opening", merge2(p, "department"))
		expect(t, one(t, dept, record{"account_id": "acme", "department": "Engineering"}),
			record{"openings": 1, "applications": 2, "applicants_per_opening": 2.0, "unmatched_applications": 1})
		expect(t, one(t, dept, record{"department": "Sales"}),
			record{"openings": 1, "applications": 0, "applicants_per_opening": 0.0})
		if rs := where(dept, record{"department": "People"}); len(rs) != 0 {
			t.Errorf("People had neither an opening nor an application in June: %v", rs)
		}
		jobs := run(t, db, "applicants_per_opening", merge2(p, "job"))
		expect(t, one(t, jobs, record{"job_id": "J2"}), record{"applications": 2})
		expect(t, one(t, jobs, record{"job_id": "J3"}), record{"applications": 0})
		for _, id := range []string{"J1", "J5"} {
			if rs := where(jobs, record{"job_id": id}); len(rs) != 0 {
				t.Errorf("%s was no opening in June: %v", id, rs)
			}
		}
		// globex: G2 open; B6 06-29 and B7 06-30 (UTC) -> 2.
		expect(t, one(t, res, record{"account_id": "globex"}),
			record{"openings": 1, "applications": 2, "applicants_per_opening": 2.0})
	})
}

// merge2 returns p at grain g.
func merge2(p Params, g string) Params {
	p.Grain = g
	return p
}

func TestHiringVelocity(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	july := date("2024-07-31")
	res := run(t, db, "hiring_velocity", Params{AsOf: july})
	// acme hires, local dates: A1 02-01 (Thu), A4 02-15 (Thu), A11 04-30
	// (Tue; 05-01 01:00 UTC), A6 07-10 (Wed). Months Feb..Jul: 2 0 1 0 0 1.
	months := where(res, record{"account_id": "acme"})
	var got []int64
	for _, r := range months {
		got = append(got, r["hires"].(int64))
		if r["partial"] != false {
			t.Errorf("whole month marked partial: %v", r)
		}
	}
	if want := []int64{2, 0, 1, 0, 0, 1}; !equalInts(got, want) {
		t.Errorf("acme months: got %v, want %v", got, want)
	}
	expect(t, months[0], record{"period_start": "2024-02-01", "period_end": "2024-02-29", "covered_from": "2024-02-01"})
	// Weeks start Monday: 01-29 .. 07-29 is 182 days = 27 weeks; hires in
	// the weeks of 01-29, 02-12, 04-29 and 07-08; the last week is cut by
	// as_of (07-29 .. 07-31).
	weeks := run(t, db, "hiring_velocity", Params{AsOf: july, Grain: "week"})
	if n := len(where(weeks, record{"account_id": "acme"})); n != 27 {
		t.Errorf("acme weeks: got %d, want 27", n)
	}
	for _, w := range []string{"2024-01-29", "2024-02-12", "2024-04-29", "2024-07-08"} {
		expect(t, one(t, weeks, record{"account_id": "acme", "period_start": w}), record{"hires": 1, "partial": false})
	}
	expect(t, one(t, weeks, record{"account_id": "acme", "period_start": "2024-02-05"}),
		record{"hires": 0, "period_end": "2024-02-11"})
	expect(t, one(t, weeks, record{"account_id": "acme", "period_start": "2024-07-29"}),
		record{"period_end": "2024-08-04", "covered_to": "2024-07-31", "partial": true, "hires": 0})
	// globex: B1 01-20 (Sat, week of 01-15), B2 02-11 (Sun, week of 02-05),
	// B3 02-20 (Tue, week of 02-19).
	var gw []int64
	for _, r := range where(weeks, record{"account_id": "globex"}) {
		gw = append(gw, r["hires"].(int64))
	}
	if want := []int64{1, 0, 0, 1, 0, 1}; !equalInts(gw[:6], want) {
		t.Errorf("globex weeks: got %v, want %v first", gw, want)
	}

	t.Run("February", func(t *testing.T) {
		p := Params{From: date("2024-02-01"), To: date("2024-02-29"), AsOf: july}
		res := run(t, db, "hiring_velocity", p)
		expect(t, one(t, res, record{"account_id": "acme"}), record{"hires": 2, "partial": false})
		// Weeks from the week of 02-01 (01-29) to the week of 02-29 (02-26):
		// 5 per account; the first and last are cut by the range.
		weeks := run(t, db, "hiring_velocity", merge2(p, "week"))
		if n := len(where(weeks, record{"account_id": "globex"})); n != 5 {
			t.Errorf("globex weeks: %d, want 5", n)
		}
		expect(t, one(t, weeks, record{"account_id": "globex", "period_start": "2024-01-29"}),
			record{"covered_from": "2024-02-01", "covered_to": "2024-02-04", "partial": true, "hires": 0})
		expect(t, one(t, weeks, record{"account_id": "globex", "period_start": "2024-02-26"}),
			record{"covered_to": "2024-02-29", "partial": true, "hires": 0})
		expect(t, one(t, weeks, record{"account_id": "globex", "period_start": "2024-02-12"}), record{"partial": false})
	})
	t.Run("months cut by the range", func(t *testing.T) {
		res := run(t, db, "hiring_velocity", Params{From: date("2024-02-10"), To: date("2024-04-20"), AsOf: july})
		// February from the 10th: A4 (02-15), not A1 (02-01); April to the
		// 20th: not A11 (04-30).
		expect(t, one(t, res, record{"account_id": "acme", "period_start": "2024-02-01"}),
			record{"covered_from": "2024-02-10", "covered_to": "2024-02-29", "partial": true, "hires": 1})
		expect(t, one(t, res, record{"account_id": "acme", "period_start": "2024-03-01"}), record{"partial": false, "hires": 0})
		expect(t, one(t, res, record{"account_id": "acme", "period_start": "2024-04-01"}),
			record{"covered_to": "2024-04-20", "partial": true, "hires": 0})
	})
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOfferAcceptance(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "offer_acceptance", Params{})
	// acme offers: A1 (hired), A3 (withdrew after the offer: declined), A4
	// (rejected, then offered and hired), A6 (hired), A11 (hired): 4 of 5
	// accepted; offers per acceptance 5/4.
	expect(t, one(t, res, record{"account_id": "acme"}), record{"offers": 5, "accepted": 4, "declined": 1,
		"rescinded": 0, "pending": 0, "acceptance_rate": 0.8, "candidate_acceptance_rate": 0.8, "offers_per_acceptance": 1.25})
	expect(t, one(t, run(t, db, "offer_acceptance", Params{Grain: "department"}),
		record{"account_id": "acme", "department": "Engineering"}), record{"offers": 5, "accepted": 4})
	// globex: B1 (hired with no offer stage: the hire implies one), B2, B3
	// accepted; B5 moved to Rejected with the reason "Offer Declined": the
	// candidate declined. 3/4.
	expect(t, one(t, res, record{"account_id": "globex"}), record{"offers": 4, "accepted": 3, "declined": 1,
		"rescinded": 0, "acceptance_rate": 0.75, "candidate_acceptance_rate": 0.75, "offers_per_acceptance": 4.0 / 3})

	t.Run("an employer's rejection is no decline", func(t *testing.T) {
		db := openHand(t)
		execSQL(t, db, `UPDATE candidates SET disposition = 'Position Filled' WHERE candidate_id = 'B5'`)
		res := run(t, db, "offer_acceptance", Params{})
		// B5 is rescinded: 3 of 4 offers accepted (SHRM), but 3 of 3
		// candidate decisions.
		expect(t, one(t, res, record{"account_id": "globex"}), record{"offers": 4, "accepted": 3, "declined": 0,
			"rescinded": 1, "acceptance_rate": 0.75, "candidate_acceptance_rate": 1.0})
	})
	t.Run("offers from June", func(t *testing.T) {
		res := run(t, db, "offer_acceptance", Params{From: date("2024-06-01")})
		// Offer dates: A6 06-25 (accepted), B5 06-01 (declined).
		expect(t, one(t, res, record{"account_id": "acme"}), record{"offers": 1, "accepted": 1, "acceptance_rate": 1.0})
		expect(t, one(t, res, record{"account_id": "globex"}),
			record{"offers": 1, "declined": 1, "acceptance_rate": 0.0, "offers_per_acceptance": nil})
	})
	t.Run("as of 2024-06-30", func(t *testing.T) {
		// A6's offer (06-25) is pending until its hire on 07-10.
		expect(t, one(t, run(t, db, "offer_acceptance", Params{AsOf: asOf}), record{"account_id": "acme"}),
			record{"offers": 5, "accepted": 3, "pending": 1, "acceptance_rate": 0.6, "candidate_acceptance_rate": 0.75})
	})
	t.Run("pending offer", func(t *testing.T) {
		db := openHand(t)
		execSQL(t, db, `INSERT INTO candidates (account_id, candidate_id, job_id, stage, funnel_stage, applied_at, first_seen_at, last_seen_at)
			VALUES ('globex', 'B8', 'G2', 'Offer', 'offered', '2024-06-10 10:00:00+00', now(), now())`,
			`INSERT INTO stage_events VALUES ('globex', 'B8', 'G2', 'Offer', 'offered', '2024-06-20 10:00:00+00', NULL, 'note')`)
		res := run(t, db, "offer_acceptance", Params{})
		// B8's offer is open: an offer extended (3/5), not a candidate decision (3/4).
		expect(t, one(t, res, record{"account_id": "globex"}),
			record{"offers": 5, "pending": 1, "acceptance_rate": 0.6, "candidate_acceptance_rate": 0.75})
	})
}

func TestOpenJobsAging(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "open_jobs_aging", Params{AsOf: asOf})
	// Open at 06-30 by status: J2 (filled only on 07-12) 168 days, J3 121,
	// G2 60; oldest first. Applications by as_of: J2 A6 A7; J3 A8 (A9
	// deleted 04-01); G2 B5 B6 B7 (B7 applied 06-30 UTC).
	want := []record{
		{"job_id": "J2", "status": "open", "age_days": 168, "age_bucket": "91-180", "applications": 2, "last_applied_on": "2024-06-05", "hires": 0},
		{"job_id": "J3", "status": "open", "age_days": 121, "age_bucket": "91-180", "applications": 1, "last_applied_on": "2024-03-02", "hires": 0},
		{"job_id": "G2", "status": "open", "age_days": 60, "age_bucket": "31-60", "applications": 3, "last_applied_on": "2024-06-30", "hires": 0},
	}
	recs := records(res)
	if len(recs) != len(want) {
		t.Fatalf("got %d open jobs, want %d: %v", len(recs), len(want), recs)
	}
	for i := range want {
		expect(t, recs[i], want[i])
	}

	t.Run("as of 2024-03-15", func(t *testing.T) {
		res := run(t, db, "open_jobs_aging", Params{AsOf: date("2024-03-15")})
		// J1 filled 02-20, J4 closed 02-20, G1 filled 02-25, J5 and G2 not yet
		// opened: J2 01-14 -> 03-15 = 61 (February has 29 days), J3 14, with
		// A8 (03-02) and A9 (03-05 local; deleted only on 04-01).
		recs := records(res)
		if len(recs) != 2 {
			t.Fatalf("got %v", recs)
		}
		expect(t, recs[0], record{"job_id": "J2", "age_days": 61, "applications": 0, "last_applied_on": nil})
		expect(t, recs[1], record{"job_id": "J3", "age_days": 14, "applications": 2, "age_bucket": "0-30",
			"last_applied_on": "2024-03-05"})
	})
	t.Run("open through hires, on hold marked", func(t *testing.T) {
		db := openHand(t)
		execSQL(t, db, `UPDATE jobs SET status = 'open' WHERE job_id = 'J1'`,
			`UPDATE jobs SET status = 'on_hold', remote_updated_at = '2024-05-10 17:00:00+00' WHERE job_id = 'J3'`)
		recs := records(run(t, db, "open_jobs_aging", Params{AsOf: asOf}))
		// J1 stays open with its two hires; J3, on hold since 05-10, comes
		// after the open jobs, marked.
		if len(recs) != 4 {
			t.Fatalf("got %v", recs)
		}
		expect(t, recs[0], record{"job_id": "J1", "status": "open", "age_days": 181, "hires": 2, "applications": 5})
		expect(t, recs[3], record{"job_id": "J3", "status": "on_hold", "age_days": 121})
		// Before its last modification, J3 was open.
		expect(t, one(t, run(t, db, "open_jobs_aging", Params{AsOf: date("2024-05-09")}), record{"job_id": "J3"}),
			record{"status": "open"})
	})
}

func TestUnmappedStages(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	res := run(t, db, "unmapped_stages", Params{})
	// acme "Talent Pool": A7 is in it now and one change went into it;
	// globex "Hold": only B4's change on 02-05.
	expect(t, one(t, res, record{"account_id": "acme", "stage": "Talent Pool"}), record{"applications": 1,
		"events": 1, "first_seen_at": "2024-06-15T12:00:00Z", "last_seen_at": "2024-06-15T12:00:00Z"})
	expect(t, one(t, res, record{"account_id": "globex", "stage": "Hold"}), record{"applications": 0, "events": 1})
	if len(res.Rows) != 2 {
		t.Errorf("got %d rows, want 2", len(res.Rows))
	}
	res = run(t, db, "unmapped_stages", Params{Account: "globex"})
	if len(res.Rows) != 1 {
		t.Errorf("account filter: got %d rows, want 1", len(res.Rows))
	}
	// As of 02-06 B4 was in Hold; Talent Pool came later.
	res = run(t, db, "unmapped_stages", Params{AsOf: date("2024-02-06")})
	if len(res.Rows) != 1 {
		t.Fatalf("got %v", res.Rows)
	}
	expect(t, one(t, res, record{"stage": "Hold"}), record{"applications": 1, "events": 1})
}

func TestDataFreshness(t *testing.T) {
	t.Parallel()
	db := sharedHand(t)
	before := time.Now()
	res := run(t, db, "data_freshness", Params{})
	// acme: last success r1 finished 2024-06-30 10:05; latest run r2 failed.
	// Rows: jobs J1..J5; candidates 12 - A9 = 11; 35 stage events (all
	// rows, A9's too); attachments F1 (F2 deleted); hires H1.
	acme := one(t, res, record{"account_id": "acme"})
	expect(t, acme, record{"last_success_at": "2024-06-30T10:05:00Z", "last_complete_scan_at": "2024-06-30T10:05:00Z",
		"last_run_status": "failed", "last_error": "candidate page 3: timeout", "jobs": 5, "candidates": 11,
		"stage_events": 35, "attachments": 1, "hires": 1})
	wantLag := before.Sub(time.Date(2024, 6, 30, 10, 5, 0, 0, time.UTC)).Hours()
	if lag, _ := acme["lag_hours"].(float64); math.Abs(lag-wantLag) > 0.1 {
		t.Errorf("acme lag_hours = %v, want about %.2f", acme["lag_hours"], wantLag)
	}
	// globex: 2 live jobs (G3 deleted), 7 candidates, 19 events, no complete
	// scan; the failure of r0 is history once r3 succeeded.
	expect(t, one(t, res, record{"account_id": "globex"}), record{"last_run_status": "succeeded", "last_error": nil,
		"last_complete_scan_at": nil, "jobs": 2, "candidates": 7, "stage_events": 19, "attachments": 0, "hires": 1})
	// initech has never finished a run.
	expect(t, one(t, res, record{"account_id": "initech"}), record{"last_success_at": nil, "lag_hours": nil,
		"last_run_status": "running", "jobs": 0, "candidates": 0})

	t.Run("as of 2024-06-29", func(t *testing.T) {
		res := run(t, db, "data_freshness", Params{AsOf: date("2024-06-29")})
		// The day ends at 06-30 07:00 UTC in California and 06-30 00:00 UTC
		// for globex: acme's runs all started later; globex's r3 finished
		// 06-29 08:10, 15.83 hours before its day's end; initech's run and
		// rows are all later, and it has no configuration: not listed. The
		// rows were first seen today: none yet.
		expect(t, one(t, res, record{"account_id": "acme"}), record{"last_success_at": nil, "last_run_status": nil, "jobs": 0})
		expect(t, one(t, res, record{"account_id": "globex"}), record{"last_success_at": "2024-06-29T08:10:00Z",
			"lag_hours": 15.83, "last_run_status": "succeeded", "stage_events": 18})
		if len(res.Rows) != 2 {
			t.Errorf("got %v", res.Rows)
		}
	})
}

func TestRescindedHire(t *testing.T) {
	t.Parallel()
	// A11, hired on 04-30 (local) to J5, failed the background check and
	// was moved to Not a Fit on 05-20. From then on it is no hire anywhere:
	// it fills nothing, counts in no hire total, and its offer was
	// rescinded; as of a date before the move it was a hire.
	db := openHand(t)
	execSQL(t, db, `INSERT INTO stage_events VALUES ('acme', 'A11', 'J5', 'Not a Fit', 'rejected', '2024-05-20 16:00:00+00', NULL, 'note')`,
		`UPDATE candidates SET stage = 'Not a Fit', funnel_stage = 'rejected', rejected_at = '2024-05-20 16:00:00+00',
			disposition = 'Failed Background Check' WHERE candidate_id = 'A11'`)
	before, after := Params{AsOf: date("2024-05-10")}, Params{AsOf: asOf}

	if r := one(t, run(t, db, "time_to_fill", merge2(before, "job")), record{"job_id": "J5"}); r["days_to_first_hire"] != int64(28) {
		t.Errorf("before the move J5 was filled by A11: %v", r)
	}
	// After: J5 (filled 05-03 by its status) has no hire to measure and is
	// not open: not listed; acme's first hires are J1's alone.
	if rs := where(run(t, db, "time_to_fill", merge2(after, "job")), record{"job_id": "J5"}); len(rs) != 0 {
		t.Errorf("J5 listed with a rescinded hire: %v", rs)
	}
	expect(t, one(t, run(t, db, "time_to_fill", after), record{"account_id": "acme"}), record{"first_hires": 1, "hires": 2})
	expect(t, one(t, run(t, db, "time_to_hire", after), record{"account_id": "acme"}), record{"hires": 2})
	expect(t, one(t, run(t, db, "time_to_hire", before), record{"account_id": "acme"}), record{"hires": 3})
	if rs := where(run(t, db, "hiring_velocity", after), record{"account_id": "acme", "period_start": "2024-04-01"}); len(rs) != 1 || rs[0]["hires"] != int64(0) {
		t.Errorf("April still counts the hire: %v", rs)
	}
	expect(t, one(t, run(t, db, "source_of_hire", after), record{"account_id": "acme", "source": "LinkedIn"}), record{"hires": 1})
	expect(t, one(t, run(t, db, "funnel_conversion", after), record{"account_id": "acme", "funnel_stage": "hired"}), record{"reached": 2})
	expect(t, one(t, run(t, db, "funnel_conversion", after), record{"account_id": "acme", "funnel_stage": "offered"}), record{"reached": 5})
	expect(t, one(t, run(t, db, "offer_acceptance", after), record{"account_id": "acme"}),
		record{"offers": 5, "accepted": 2, "declined": 1, "rescinded": 1, "pending": 1})
	expect(t, one(t, run(t, db, "offer_acceptance", before), record{"account_id": "acme"}),
		record{"accepted": 3, "rescinded": 0})
}
