package sync

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/schema"
)

// TestSyncer_Refresh_listHash refreshes a candidate whose list row holds
// '&' (its job is "Shipping & Receiving Clerk"), as a webhook does: the
// next scan sees the row it stored and fetches no detail for it.
func TestSyncer_Refresh_listHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 40, nil)
	sub := e.tenant.Subdomain
	jobs, _ := e.fake.Serials(sub, fake.ListJobs)
	if err := e.fake.EditJob(sub, jobs[0], map[string]string{"Job Name": "Shipping & Receiving Clerk <Night>"}); err != nil {
		t.Fatal(err)
	}
	e.mustRun(ModeBackfill)
	var serial string
	if err := e.sql().QueryRow(`SELECT candidate_id FROM candidates WHERE job_id = ? AND strpos(remote_data->>'Job Name', '&') > 0
		ORDER BY candidate_id LIMIT 1`, jobs[0]).Scan(&serial); err != nil {
		t.Fatalf("no candidate of the job with '&' in its name: %v", err)
	}
	if err := e.fake.MoveStage(sub, serial, "Interview"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Refresh(context.Background(), e.account(), []string{serial}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(`SELECT count(*) FROM candidates WHERE candidate_id = ? AND stage = 'Interview'`, serial); n != 1 {
		t.Fatal("the refresh did not store the new stage")
	}
	e.fake.ResetStats(sub)
	e.mustRun(ModeSync)
	if n := e.fake.Stats(sub).Requests[fake.KindCandidate]; n != 0 {
		t.Errorf("the scan after the refresh fetched %d candidate details, want 0", n)
	}
}

func TestListHash(t *testing.T) {
	tests := map[string]struct{ row, detail string }{
		"html characters": {`{"Candidate Serial":"a4x","Job Name":"Shipping & Receiving <Night>"}`,
			`{"Method Result":"Success","Candidate Serial":"a4x","Job Name":"Shipping & Receiving <Night>","Notes":[],"Files":[{"url":"x?a=1&b=2"}]}`},
		"escapes as served": {`{"Candidate Serial":"a4x","City":"Montr\u00e9al","Job Name":"A \u0026 B"}`,
			`{"Candidate Serial":"a4x","City":"Montr\u00e9al","Job Name":"A \u0026 B","Cover Letter":"<p>Hi</p>"}`},
		"whitespace and order": {`{"Candidate Serial":"a4x","Stage":"New"}`,
			"{ \"Notes\" : [ ] ,\n \"Stage\" : \"New\" ,\t\"Candidate Serial\":\"a4x\" }"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got, want := listHash(json.RawMessage(tt.detail)), schema.RowHash(json.RawMessage(tt.row)); got != want {
				t.Errorf("listHash = %s, the list row hashes to %s", got, want)
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"a":`, `"x"`} {
		if h := listHash(json.RawMessage(bad)); h != "" {
			t.Errorf("listHash(%q) = %q, want \"\"", bad, h)
		}
	}
}
