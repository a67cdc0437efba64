package fake

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// findCandidate returns the first live candidate whose list row satisfies ok.
func findCandidate(t *testing.T, s *Server, sub string, ok func(row map[string]any) bool) string {
	t.Helper()
	serials, _ := s.Serials(sub, ListCandidates)
	for _, serial := range serials {
		truth, _ := s.Candidate(sub, serial, "")
		if ok(decodeObject(t, truth.Row)) {
			return serial
		}
	}
	t.Fatal("no such candidate")
	return ""
}

func active(row map[string]any) bool { return row["Stage Type"] == "" && row["Stage"] != "Offer" }

func TestServer_MoveStage(t *testing.T) {
	rec := newReceiver(t)
	cfg := testTenant("acme")
	cfg.WebhookURL, cfg.WebhookSecret = rec.URL, "s3cret"
	s, srv := newTestServer(t, cfg)
	serial := findCandidate(t, s, "acme", active)
	before, _ := s.Candidate("acme", serial, srv.URL)
	var beforeDetail candidateDetail
	json.Unmarshal(before.Detail, &beforeDetail)

	at := s.Advance(3 * time.Hour)
	if err := s.MoveStage("acme", serial, "Interview"); err != nil {
		t.Fatal(err)
	}
	var c candidateDetail
	json.Unmarshal(get(t, srv, cfg, "/api/candidate/"+serial).body, &c)
	last := c.Notes[len(c.Notes)-1]
	user, stage, ok := strings.Cut(html.UnescapeString(last.Text), " set Stage to ")
	if !ok || stage != "Interview" || last.Timestamp != at.Unix() || len(c.Notes) != len(beforeDetail.Notes)+1 {
		t.Fatalf("last note %+v (%d notes, had %d)", last, len(c.Notes), len(beforeDetail.Notes))
	}
	if c.Stage != "Interview" || c.StageType != "" || c.Disposition != "" {
		t.Errorf("after move: Stage %q Stage Type %q Disposition %q", c.Stage, c.StageType, c.Disposition)
	}
	after, _ := s.Candidate("acme", serial, srv.URL)
	if h := after.History[len(after.History)-1]; h.Stage != "Interview" || h.User != user || !h.Time.Equal(at) || h.UserSerial == "" {
		t.Errorf("history ends %+v", h)
	}

	if err := s.FlushWebhooks(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := rec.payloads()
	if len(got) != 1 {
		t.Fatalf("%d notifications, want 1", len(got))
	}
	wantKeys := []string{"Object Type", "Event Type", "Domain", "Secret", "Event Date", "Stage", "Candidate Serial", "Job Serial", "User Serial", "User Type"}
	if keys := keysOf(t, got[0]); !slices.Equal(keys, wantKeys) {
		t.Errorf("payload keys %q, want %q", keys, wantKeys)
	}
	p := decodeObject(t, got[0])
	if p["Object Type"] != "candidate" || p["Event Type"] != "stagechange" || p["Domain"] != "acme" || p["Secret"] != "s3cret" ||
		p["Stage"] != "Interview" || p["Candidate Serial"] != serial || p["Job Serial"] != c.JobSerial || p["User Type"] != "USER" || p["User Serial"] != lastEvent(after).UserSerial {
		t.Errorf("payload %v", p)
	}
	when, err := time.Parse(time.RFC3339, p["Event Date"].(string))
	if err != nil || !when.Equal(at) || !strings.HasSuffix(p["Event Date"].(string), "-04:00") {
		t.Errorf("Event Date %v (%v), want %v with the New York offset", p["Event Date"], err, at)
	}
	if ct := rec.contentType(); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	t.Run("reject and reopen", func(t *testing.T) {
		if err := s.MoveStage("acme", serial, "Do Not Pursue"); err != nil {
			t.Fatal(err)
		}
		var c candidateDetail
		json.Unmarshal(get(t, srv, cfg, "/api/candidate/"+serial).body, &c)
		if c.StageType != "Do Not Pursue" || c.Disposition == "" {
			t.Errorf("rejected: Stage Type %q Disposition %q", c.StageType, c.Disposition)
		}
		if n := c.Notes; n[len(n)-1].Timestamp <= n[len(n)-2].Timestamp {
			t.Error("a move at the same clock time did not get a later timestamp")
		}
		s.MoveStage("acme", serial, "Manager Review")
		json.Unmarshal(get(t, srv, cfg, "/api/candidate/"+serial).body, &c)
		if c.StageType != "" || c.Disposition != "" {
			t.Errorf("reopened: Stage Type %q Disposition %q", c.StageType, c.Disposition)
		}
	})

	t.Run("errors", func(t *testing.T) {
		if err := s.MoveStage("acme", serial, "Astronaut"); !errors.Is(err, errBadStage) {
			t.Errorf("unknown stage: %v", err)
		}
		if err := s.MoveStage("acme", "a4zzzzzzzzzz", "New"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown candidate: %v", err)
		}
		if err := s.MoveStage("nobody", serial, "New"); !errors.Is(err, ErrUnknownTenant) {
			t.Errorf("unknown tenant: %v", err)
		}
	})

	t.Run("PUT", func(t *testing.T) {
		url := srv.URL + "/api/candidate/" + serial
		if r := call(t, http.MethodPut, url, `{"Stage":"Offer"}`, "Token", cfg.Token); r.status != http.StatusBadRequest {
			t.Errorf("no Publisher: status %d", r.status)
		}
		if r := call(t, http.MethodPut, url, `{"Stage":"Astronaut"}`, "Token", cfg.Token, "Publisher", "Acme HRIS"); decodeObject(t, r.body)["Method Result"] != "Failure" {
			t.Errorf("bad stage: %s", r.body)
		}
		r := call(t, http.MethodPut, url, `{"Stage":"Offer"}`, "Token", cfg.Token, "Publisher", "Acme HRIS")
		if want := `{"Method Result":"Success","Candidate Serial":"` + serial + `"}`; string(r.body) != want {
			t.Errorf("PUT: %s, want %s", r.body, want)
		}
		truth, _ := s.Candidate("acme", serial, "")
		if h := truth.History[len(truth.History)-1]; h.User != "Acme HRIS" || h.Stage != "Offer" {
			t.Errorf("history ends %+v", h)
		}
		s.FlushWebhooks(context.Background())
		ps := rec.payloads()
		if p := decodeObject(t, ps[len(ps)-1]); p["User Type"] != "API" || p["Stage"] != "Offer" {
			t.Errorf("PUT notification %v", p)
		}
	})

	t.Run("hire", func(t *testing.T) {
		hires, _ := s.Serials("acme", ListHires)
		h := hires[0]
		before, _ := s.Hire("acme", h)
		s.Advance(time.Hour)
		if err := s.MoveHireStage("acme", h, "Complete"); err != nil {
			t.Fatal(err)
		}
		after, _ := s.Hire("acme", h)
		b, a := decodeObject(t, before.Row), decodeObject(t, after.Row)
		if a["Stage"] != "Complete" || a["Last Modified Date"] == b["Last Modified Date"] {
			t.Errorf("hire after move: %v %v", a["Stage"], a["Last Modified Date"])
		}
		s.FlushWebhooks(context.Background())
		ps := rec.payloads()
		last := ps[len(ps)-1]
		want := []string{"Object Type", "Event Type", "Domain", "Secret", "Event Date", "Stage", "Hire Serial", "User Serial", "User Type"}
		if keys := keysOf(t, last); !slices.Equal(keys, want) {
			t.Errorf("hire payload keys %q", keys)
		}
		if p := decodeObject(t, last); p["Object Type"] != "hire" || p["Hire Serial"] != h || p["User Type"] != "SYSTEM" || p["User Serial"] != "" {
			t.Errorf("hire payload %v", p)
		}
		if err := s.MoveHireStage("acme", h, "Hired"); !errors.Is(err, errBadStage) {
			t.Errorf("bad hire stage: %v", err)
		}
	})
}

func TestServer_MoveMany(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	// stages reads every list row's Stage by serial, through the API.
	stages := func() map[string]string {
		out := map[string]string{}
		for n := 1; n <= numPages(cfg.Candidates); n++ {
			for _, row := range decodePage(t, get(t, srv, cfg, "/api/candidates/"+strconv.Itoa(n))).Cands {
				out[row["Candidate Serial"].(string)] = row["Stage"].(string)
			}
		}
		return out
	}
	serials, _ := s.Serials("acme", ListCandidates)
	position := map[string]int{}
	for i, serial := range serials {
		position[serial] = i
	}

	for _, tc := range []struct{ count, from int }{{45, 0}, {10, 350}, {1, 449}, {450, 0}} {
		before := stages()
		moved, err := s.MoveMany("acme", tc.count, tc.from)
		if err != nil {
			t.Fatalf("MoveMany(%d, %d): %v", tc.count, tc.from, err)
		}
		after := stages()
		if len(moved) != tc.count {
			t.Fatalf("MoveMany(%d, %d): %d serials", tc.count, tc.from, len(moved))
		}
		want := map[string]bool{}
		for i, serial := range moved {
			if p := position[serial]; p < tc.from || i > 0 && p <= position[moved[i-1]] {
				t.Errorf("MoveMany(%d, %d): %s at position %d, out of range or order", tc.count, tc.from, serial, p)
			}
			want[serial] = true
		}
		for serial, stage := range after {
			if changed := stage != before[serial]; changed != want[serial] {
				t.Errorf("MoveMany(%d, %d): %s %q → %q, moved %v", tc.count, tc.from, serial, before[serial], stage, want[serial])
			}
		}
		if tc.count == 45 {
			// Evenly spread: one move in each tenth of the list.
			for i, serial := range moved {
				if p := position[serial]; p/10 != i {
					t.Errorf("move %d at position %d, want in [%d, %d)", i, p, 10*i, 10*i+10)
				}
			}
		}
	}

	for _, tc := range []struct{ count, from int }{{451, 0}, {11, 440}, {-1, 0}, {1, -1}, {0, 451}} {
		if _, err := s.MoveMany("acme", tc.count, tc.from); err == nil {
			t.Errorf("MoveMany(%d, %d): no error", tc.count, tc.from)
		}
	}
	if _, err := s.MoveMany("nobody", 1, 0); !errors.Is(err, ErrUnknownTenant) {
		t.Errorf("unknown tenant: %v", err)
	}
}

// lastEvent returns the last history entry.
func lastEvent(ct CandidateTruth) StageEvent { return ct.History[len(ct.History)-1] }

func TestServer_AddCandidates(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	now := s.Advance(time.Hour)
	added, err := s.AddCandidates("acme", 130)
	if err != nil {
		t.Fatal(err)
	}
	p := decodePage(t, get(t, srv, cfg, "/api/candidates"))
	if p.Total != 580 || p.NumPages != 6 {
		t.Fatalf("TotalCount %d NumPages %d, want 580, 6", p.Total, p.NumPages)
	}
	all := listAll(t, srv, cfg, "/api/candidates", "Candidate Serial")
	if !slices.Equal(all[450:], added) {
		t.Error("added candidates are not the tail of the list, in order")
	}
	prev := int64(0)
	for _, serial := range added {
		var c candidateDetail
		json.Unmarshal(get(t, srv, cfg, "/api/candidate/"+serial).body, &c)
		if c.Stage != "New" || len(c.Notes) != 1 || c.CreateTS < now.Unix() || c.CreateTS <= prev {
			t.Fatalf("%s: Stage %q, %d notes, created %d (now %d, previous %d)", serial, c.Stage, len(c.Notes), c.CreateTS, now.Unix(), prev)
		}
		prev = c.CreateTS
	}
	if _, err := s.AddCandidates("acme", -1); err == nil {
		t.Error("negative count accepted")
	}
}

func TestServer_DeleteCandidate(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	serials, _ := s.Serials("acme", ListCandidates)
	gone := map[string]bool{}
	for _, i := range []int{0, 99, 100, 101, 250, 251, 252, 253, 449} {
		if err := s.DeleteCandidate("acme", serials[i]); err != nil {
			t.Fatal(err)
		}
		gone[serials[i]] = true
	}
	for i := 3; i < len(serials); i += 17 { // more, scattered
		if !gone[serials[i]] {
			s.DeleteCandidate("acme", serials[i])
			gone[serials[i]] = true
		}
	}
	var want []string
	for _, serial := range serials {
		if !gone[serial] {
			want = append(want, serial)
		}
	}
	if got := listAll(t, srv, cfg, "/api/candidates", "Candidate Serial"); !slices.Equal(got, want) {
		t.Fatalf("list after deletes has %d serials, want %d (or a different order)", len(got), len(want))
	}
	if p := decodePage(t, get(t, srv, cfg, "/api/candidates")); p.Total != len(want) {
		t.Errorf("TotalCount %d, want %d", p.Total, len(want))
	}
	if r := get(t, srv, cfg, "/api/candidate/"+serials[100]); r.status != http.StatusNotFound {
		t.Errorf("deleted detail: status %d", r.status)
	}
	if err := s.DeleteCandidate("acme", serials[100]); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if live, _ := s.Serials("acme", ListCandidates); !slices.Equal(live, want) {
		t.Error("Serials lists deleted candidates")
	}
}

func TestServer_EditJob(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	jobs := decodePage(t, get(t, srv, cfg, "/api/jobs")).Jobs
	serial := jobs[3]["Job Serial"].(string)
	beforeDetail := decodeObject(t, get(t, srv, cfg, "/api/job/"+serial).body)
	now := s.Advance(2 * time.Hour)
	if err := s.EditJob("acme", serial, nil); err != nil {
		t.Fatal(err)
	}
	after := decodePage(t, get(t, srv, cfg, "/api/jobs")).Jobs[3]
	for k, v := range jobs[3] {
		changed := after[k] != v
		if strings.HasPrefix(k, "Last Modified Date") != changed {
			t.Errorf("%s: %v → %v", k, v, after[k])
		}
	}
	if ts := after["Last Modified Date Timestamp"].(float64); int64(ts) != now.Unix() {
		t.Errorf("Last Modified Date Timestamp %v, want %d", ts, now.Unix())
	}
	if d := decodeObject(t, get(t, srv, cfg, "/api/job/"+serial).body); d["Note"] == beforeDetail["Note"] {
		t.Error("default edit did not change the Note")
	}

	if err := s.EditJob("acme", serial, map[string]string{"Job Name": "Chief Happiness Officer", "Stage": "On Hold"}); err != nil {
		t.Fatal(err)
	}
	again := decodePage(t, get(t, srv, cfg, "/api/jobs")).Jobs[3]
	if again["Stage"] != "On Hold" || again["Stage Type"] != "On Hold" || again["Last Modified Date Timestamp"].(float64) <= after["Last Modified Date Timestamp"].(float64) {
		t.Errorf("second edit: %v", again)
	}
	renamed := 0
	for n := 1; n <= 5; n++ {
		for _, c := range decodePage(t, get(t, srv, cfg, "/api/candidates/"+strconv.Itoa(n))).Cands {
			if c["Job Serial"] == serial {
				renamed++
				if c["Job Name"] != "Chief Happiness Officer ["+jobs[3]["Job ID"].(string)+"]" {
					t.Errorf("candidate of the renamed job shows %v", c["Job Name"])
				}
			}
		}
	}
	if renamed == 0 {
		t.Error("no candidate of the edited job")
	}
	if err := s.EditJob("acme", serial, map[string]string{"Job Serial": "x"}); err == nil {
		t.Error("editing the serial accepted")
	}
}

func TestServer_Stats(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	cands, _ := s.Serials("acme", ListCandidates)
	jobs, _ := s.Serials("acme", ListJobs)
	hires, _ := s.Serials("acme", ListHires)
	var fileURLs []string
	for _, c := range cands {
		truth, _ := s.Candidate("acme", c, srv.URL)
		if len(truth.Files) > 0 {
			var d candidateDetail
			json.Unmarshal(truth.Detail, &d)
			fileURLs = append(fileURLs, d.Files[0].URL)
			break
		}
	}
	get(t, srv, cfg, "/api/jobs/1")
	get(t, srv, cfg, "/api/jobs/2")
	get(t, srv, cfg, "/api/job/"+jobs[0])
	for range 3 {
		get(t, srv, cfg, "/api/candidates")
	}
	get(t, srv, cfg, "/api/candidate/"+cands[0])
	get(t, srv, cfg, "/api/candidate/a4zzzzzzzzzz")
	get(t, srv, cfg, "/o/api/hires")
	get(t, srv, cfg, "/o/api/hire/"+hires[0])
	call(t, http.MethodGet, fileURLs[0], "")
	hostCall(t, srv.URL+"/api/jobs", "acme.localhost", "wrong")
	st := s.Stats("acme")
	want := map[string]int64{KindJobsList: 3, KindJob: 1, KindCandidatesList: 3, KindCandidate: 2, KindHiresList: 1, KindHire: 1, KindAttachment: 1}
	for k, n := range want {
		if st.Requests[k] != n {
			t.Errorf("Requests[%s] = %d, want %d", k, st.Requests[k], n)
		}
	}
	if st.Status[200] != 10 || st.Status[404] != 1 || st.Status[401] != 1 || st.Served[KindCandidate] != 1 {
		t.Errorf("stats %+v", st)
	}
	s.ResetStats("acme")
	if st := s.Stats("acme"); len(st.Requests) != 0 || len(st.Status) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestServer_admin(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	admin := func(t *testing.T, method, path, body string, wantStatus int) map[string]any {
		t.Helper()
		r := call(t, method, srv.URL+path, body)
		if r.status != wantStatus {
			t.Fatalf("%s %s: status %d %s, want %d", method, path, r.status, r.body, wantStatus)
		}
		var m map[string]any
		json.Unmarshal(r.body, &m)
		return m
	}

	t.Run("loopback only", func(t *testing.T) {
		for _, remote := range []string{"203.0.113.9:5555", "[2001:db8::1]:80", "10.0.0.1:1"} {
			req := httptest.NewRequest(http.MethodGet, "/_fake/clock", nil)
			req.RemoteAddr = remote
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", remote, w.Code)
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/_fake/tenants/acme/candidates", strings.NewReader(`{"count":1}`))
		req.RemoteAddr = "192.0.2.1:1"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if live, _ := s.Serials("acme", ListCandidates); w.Code != http.StatusForbidden || len(live) != 450 {
			t.Errorf("a refused request changed data (status %d)", w.Code)
		}
	})

	t.Run("clock", func(t *testing.T) {
		before := s.Now()
		m := admin(t, http.MethodPost, "/_fake/clock", `{"advance":"36h"}`, http.StatusOK)
		now, _ := time.Parse(time.RFC3339, m["now"].(string))
		if !now.Equal(before.Add(36*time.Hour)) || !s.Now().Equal(now) {
			t.Errorf("clock %v, want %v", now, before.Add(36*time.Hour))
		}
		admin(t, http.MethodPost, "/_fake/clock", `{"advance":"-1h"}`, http.StatusBadRequest)
	})

	t.Run("changes", func(t *testing.T) {
		m := admin(t, http.MethodPost, "/_fake/tenants/acme/candidates", `{"count":2}`, http.StatusOK)
		added := m["serials"].([]any)
		if len(added) != 2 {
			t.Fatalf("added %v", added)
		}
		serial := added[0].(string)
		admin(t, http.MethodPost, "/_fake/tenants/acme/candidates/"+serial+"/stage", `{"stage":"Interview"}`, http.StatusOK)
		admin(t, http.MethodPost, "/_fake/tenants/acme/candidates/"+serial+"/stage", `{"stage":"Astronaut"}`, http.StatusBadRequest)
		truth := admin(t, http.MethodGet, "/_fake/tenants/acme/candidates/"+serial, "", http.StatusOK)
		if h := truth["History"].([]any); len(h) != 2 || h[1].(map[string]any)["Stage"] != "Interview" {
			t.Errorf("history %v", h)
		}
		m = admin(t, http.MethodPost, "/_fake/tenants/acme/candidates/moves", `{"count":3,"from":100}`, http.StatusOK)
		if moved := m["serials"].([]any); len(moved) != 3 {
			t.Errorf("moved %v", moved)
		} else if truth, _ := s.Candidate("acme", moved[0].(string), ""); lastEvent(truth).Time.Before(s.Now()) {
			t.Errorf("moved candidate's history ends %+v, before the move", lastEvent(truth))
		}
		admin(t, http.MethodPost, "/_fake/tenants/acme/candidates/moves", `{"count":1000}`, http.StatusBadRequest)
		admin(t, http.MethodDelete, "/_fake/tenants/acme/candidates/"+serial, "", http.StatusOK)
		admin(t, http.MethodDelete, "/_fake/tenants/acme/candidates/"+serial, "", http.StatusNotFound)
		jobs, _ := s.Serials("acme", ListJobs)
		admin(t, http.MethodPost, "/_fake/tenants/acme/jobs/"+jobs[0], `{"Salary Range":"$1-$2/hour"}`, http.StatusOK)
		if j, _ := s.Job("acme", jobs[0]); !strings.Contains(string(j.Row), `"Salary Range":"$1-$2/hour"`) {
			t.Errorf("job row %s", j.Row)
		}
		admin(t, http.MethodGet, "/_fake/tenants/nobody", "", http.StatusNotFound)
		admin(t, http.MethodGet, "/_fake/nothing", "", http.StatusNotFound)
	})

	t.Run("faults and stats", func(t *testing.T) {
		admin(t, http.MethodPut, "/_fake/tenants/acme/faults", `{"error_rate":1,"latency":"1ms"}`, http.StatusOK)
		if r := get(t, srv, cfg, "/api/jobs"); r.status < 500 {
			t.Errorf("with error_rate 1: status %d", r.status)
		}
		f := admin(t, http.MethodGet, "/_fake/tenants/acme/faults", "", http.StatusOK)
		if f["latency"] != "1ms" || f["error_rate"] != 1.0 {
			t.Errorf("faults %v", f)
		}
		admin(t, http.MethodPut, "/_fake/tenants/acme/faults", `{"error_rate":7}`, http.StatusBadRequest)
		admin(t, http.MethodPut, "/_fake/tenants/acme/faults", `{}`, http.StatusOK)
		st := admin(t, http.MethodGet, "/_fake/tenants/acme/stats", "", http.StatusOK)
		if st["server_errors"].(float64) < 1 {
			t.Errorf("stats %v", st)
		}
		admin(t, http.MethodDelete, "/_fake/tenants/acme/stats", "", http.StatusOK)
		if st := s.Stats("acme"); st.ServerErrors != 0 {
			t.Error("stats not reset")
		}
		admin(t, http.MethodPut, "/_fake/tenants/acme/faults", `{"malformed_rate":0.1}`, http.StatusOK)
		r := call(t, http.MethodGet, srv.URL+"/_fake/tenants/acme/malformed/candidates", "")
		var rows []MalformedRow
		if err := json.Unmarshal(r.body, &rows); err != nil || len(rows) == 0 {
			t.Errorf("malformed rows %s (%v)", r.body, err)
		}
	})

	t.Run("tenants", func(t *testing.T) {
		m := admin(t, http.MethodPost, "/_fake/tenants", `{"subdomain":"gamma","candidates":120,"jobs":4}`, http.StatusOK)
		token := m["token"].(string)
		if len(token) != 40 || m["onboarding"] != true {
			t.Errorf("new tenant %v", m)
		}
		p := decodePage(t, call(t, http.MethodGet, srv.URL+"/api/candidates", "", "Token", token))
		if p.Total != 120 {
			t.Errorf("gamma has %d candidates", p.Total)
		}
		admin(t, http.MethodPost, "/_fake/tenants", `{"subdomain":"gamma"}`, http.StatusBadRequest)
		info := admin(t, http.MethodGet, "/_fake/tenants/gamma", "", http.StatusOK)
		if info["candidates"] != 120.0 || len(info["pipeline"].([]any)) < 8 {
			t.Errorf("info %v", info)
		}
	})
}
