package queries

import (
	"math"
	"testing"
	"time"
)

func TestApplicantsPerOpening(t *testing.T) {
	db := openHand(t)

	t.Run("all time", func(t *testing.T) {
		res := run(t, db, "applicants_per_opening", Params{})
		// Every live job is an opening over all time: acme J1..J5 = 5 with 11
		// applications (A9 deleted) -> 2.2. A5 is A1 applying to J1 again, so
		// J1 has 5 applications but 4 deduplicated; A3 and A6 share a person
		// but apply to different jobs, so both count.
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
			record{"openings": 5, "applications": 11, "deduplicated_applications": 10, "applicants_per_opening": 2.2})
		expect(t, one(t, res, record{"grain": "job", "job_id": "J1"}),
			record{"openings": 1, "applications": 5, "deduplicated_applications": 4, "applicants_per_opening": 5.0})
		// Engineering: J1 5 + J2 2 + J5 2 = 9 over 3 openings.
		expect(t, one(t, res, record{"grain": "department", "account_id": "acme", "department": "Engineering"}),
			record{"openings": 3, "applications": 9, "deduplicated_applications": 8, "applicants_per_opening": 3.0})
		expect(t, one(t, res, record{"grain": "job", "job_id": "J3"}), record{"applications": 1}) // A9 deleted
		// globex G1 G2 (G3 deleted), 7 applications -> 3.5.
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex"}),
			record{"openings": 2, "applications": 7, "applicants_per_opening": 3.5})
	})

	t.Run("June", func(t *testing.T) {
		res := run(t, db, "applicants_per_opening", Params{From: date("2024-06-01"), To: asOf})
		// Open at some time in June: J2 (filled 07-10), J3 (open); not J1
		// (filled 02-01), J4 (closed 02-20), J5 (filled 05-01). Applications
		// in June: A5 (J1), A6 A7 (J2) -> 3 / 2 = 1.5.
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
			record{"openings": 2, "applications": 3, "applicants_per_opening": 1.5})
		expect(t, one(t, res, record{"grain": "job", "job_id": "J1"}),
			record{"openings": 0, "applications": 1, "applicants_per_opening": nil})
		expect(t, one(t, res, record{"grain": "job", "job_id": "J2"}), record{"openings": 1, "applications": 2})
		expect(t, one(t, res, record{"grain": "job", "job_id": "J3"}),
			record{"openings": 1, "applications": 0, "applicants_per_opening": 0.0})
		if rs := where(res, record{"job_id": "J5"}); len(rs) != 0 {
			t.Errorf("J5 had neither an opening nor applications in June: %v", rs)
		}
		// globex: G2 open; B6 06-29 and B7 06-30 (UTC) -> 2.
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex"}),
			record{"openings": 1, "applications": 2, "applicants_per_opening": 2.0})
	})
}

func TestHiringVelocity(t *testing.T) {
	db := openHand(t)
	res := run(t, db, "hiring_velocity", Params{})
	// acme hires: A1 02-01 (Thu), A4 02-15 (Thu), A11 05-01 (Wed), A6 07-10 (Wed).
	// Months Feb..Jul: 2 0 0 1 0 1.
	months := where(res, record{"grain": "month", "account_id": "acme"})
	var got []int64
	for _, r := range months {
		got = append(got, r["hires"].(int64))
	}
	if want := []int64{2, 0, 0, 1, 0, 1}; !equalInts(got, want) {
		t.Errorf("acme months: got %v, want %v", got, want)
	}
	expect(t, months[0], record{"period_start": "2024-02-01", "period_end": "2024-02-29"})
	// Weeks start Monday: 01-29 .. 07-08 is 161 days = 24 weeks; hires in the
	// weeks of 01-29, 02-12, 04-29 and 07-08.
	weeks := where(res, record{"grain": "week", "account_id": "acme"})
	if len(weeks) != 24 {
		t.Errorf("acme weeks: got %d, want 24", len(weeks))
	}
	for _, w := range []string{"2024-01-29", "2024-02-12", "2024-04-29", "2024-07-08"} {
		expect(t, one(t, res, record{"grain": "week", "account_id": "acme", "period_start": w}), record{"hires": 1})
	}
	expect(t, one(t, res, record{"grain": "week", "account_id": "acme", "period_start": "2024-02-05"}),
		record{"hires": 0, "period_end": "2024-02-11"})
	// globex: B1 01-20 (Sat, week of 01-15), B2 02-11 (Sun, week of 02-05),
	// B3 02-20 (Tue, week of 02-19): weeks 01-15 .. 02-19 = 1 0 0 1 0 1.
	var gw []int64
	for _, r := range where(res, record{"grain": "week", "account_id": "globex"}) {
		gw = append(gw, r["hires"].(int64))
	}
	if want := []int64{1, 0, 0, 1, 0, 1}; !equalInts(gw, want) {
		t.Errorf("globex weeks: got %v, want %v", gw, want)
	}

	t.Run("February", func(t *testing.T) {
		res := run(t, db, "hiring_velocity", Params{From: date("2024-02-01"), To: date("2024-02-29")})
		// Weeks from the week of 02-01 (01-29) to the week of 02-29 (02-26): 5
		// per account; acme 1 0 1 0 0, month 2; globex 0 1 0 1 0, month 2.
		if n := len(where(res, record{"grain": "week", "account_id": "globex"})); n != 5 {
			t.Errorf("globex weeks: %d, want 5", n)
		}
		expect(t, one(t, res, record{"grain": "month", "account_id": "acme"}), record{"hires": 2})
		expect(t, one(t, res, record{"grain": "week", "account_id": "globex", "period_start": "2024-02-26"}), record{"hires": 0})
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
	db := openHand(t)
	res := run(t, db, "offer_acceptance", Params{})
	// acme offers: A1 (hired), A3 (withdrew after the offer), A4 (rejected,
	// then offered and hired), A6 (hired), A11 (hired): 4 accepted, 1
	// declined: rate 4/5, offers per acceptance 5/4.
	expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}), record{"offers": 5, "accepted": 4,
		"declined": 1, "pending": 0, "acceptance_rate": 0.8, "offers_per_acceptance": 1.25})
	expect(t, one(t, res, record{"grain": "department", "account_id": "acme", "department": "Engineering"}),
		record{"offers": 5, "accepted": 4})
	// globex: B1 (hired with no offer event: the hire implies it), B2, B3
	// accepted; B5 rejected after the offer: 3/4.
	expect(t, one(t, res, record{"grain": "account", "account_id": "globex"}), record{"offers": 4, "accepted": 3,
		"declined": 1, "acceptance_rate": 0.75, "offers_per_acceptance": 4.0 / 3})

	t.Run("offers from June", func(t *testing.T) {
		res := run(t, db, "offer_acceptance", Params{From: date("2024-06-01")})
		// Offer dates: A6 06-25 (accepted), B5 06-01 (declined).
		expect(t, one(t, res, record{"grain": "account", "account_id": "acme"}),
			record{"offers": 1, "accepted": 1, "acceptance_rate": 1.0})
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex"}),
			record{"offers": 1, "declined": 1, "acceptance_rate": 0.0, "offers_per_acceptance": nil})
	})
	t.Run("pending offer", func(t *testing.T) {
		db := openHand(t)
		execSQL(t, db, `INSERT INTO candidates (account_id, candidate_id, job_id, stage, funnel_stage, applied_at, first_seen_at, last_seen_at)
			VALUES ('globex', 'B8', 'G2', 'Offer', 'offered', '2024-06-10 10:00:00+00', now(), now())`,
			`INSERT INTO stage_events VALUES ('globex', 'B8', 'G2', 'Offer', 'offered', '2024-06-20 10:00:00+00', NULL, 'note')`)
		res := run(t, db, "offer_acceptance", Params{})
		// B8's offer is open: counted as an offer, left out of the rate (3/4 still).
		expect(t, one(t, res, record{"grain": "account", "account_id": "globex"}),
			record{"offers": 5, "pending": 1, "acceptance_rate": 0.75})
	})
}

func TestOpenJobsAging(t *testing.T) {
	db := openHand(t)
	res := run(t, db, "open_jobs_aging", Params{AsOf: asOf})
	// Open at 06-30: J2 (hire after as_of) 167 days, J3 121, G2 60; oldest
	// first. Applications by as_of: J2 A6 A7; J3 A8 (A9 deleted); G2 B5 B6 B7
	// (B7 applied 06-30 UTC).
	want := []record{
		{"job_id": "J2", "age_days": 167, "age_bucket": "91-180", "applications": 2, "last_applied_on": "2024-06-05"},
		{"job_id": "J3", "age_days": 121, "age_bucket": "91-180", "applications": 1, "last_applied_on": "2024-03-03"},
		{"job_id": "G2", "age_days": 60, "age_bucket": "31-60", "applications": 3, "last_applied_on": "2024-06-30"},
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
		// J1 filled 02-01, G1 filled 02-11, J4 cancelled, J5 and G2 not yet
		// opened: J2 01-15 -> 03-15 = 60 (February has 29 days), J3 14.
		recs := records(res)
		if len(recs) != 2 {
			t.Fatalf("got %v", recs)
		}
		expect(t, recs[0], record{"job_id": "J2", "age_days": 60, "applications": 0})
		expect(t, recs[1], record{"job_id": "J3", "age_days": 14, "applications": 1, "age_bucket": "0-30"})
	})
}

func TestUnmappedStages(t *testing.T) {
	db := openHand(t)
	res := run(t, db, "unmapped_stages", Params{})
	// acme "Talent Pool": A7 is in it now and one event carries it; globex
	// "Hold": only B4's event on 02-05.
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
}

func TestDataFreshness(t *testing.T) {
	db := openHand(t)
	before := time.Now()
	res := run(t, db, "data_freshness", Params{})
	// acme: last success r1 finished 2024-06-30 10:05; latest run r2 failed.
	// Live rows: jobs J1..J5; candidates 12 - A9 = 11; 35 stage events (all
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
}
