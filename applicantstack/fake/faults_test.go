package fake

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServer_SetFaults(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	setFaults := func(t *testing.T, f Faults) {
		t.Helper()
		if err := s.SetFaults("acme", f); err != nil {
			t.Fatal(err)
		}
		s.ResetStats("acme")
		t.Cleanup(func() { s.SetFaults("acme", Faults{}) })
	}

	t.Run("rate limit", func(t *testing.T) {
		setFaults(t, Faults{RateLimit: 0.5, Burst: 3})
		for i := range 3 {
			if r := get(t, srv, cfg, "/api/jobs"); r.status != http.StatusOK {
				t.Fatalf("request %d within the burst: status %d", i, r.status)
			}
		}
		r := get(t, srv, cfg, "/api/jobs")
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("request over the burst: status %d, want 429", r.status)
		}
		if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
			t.Errorf("Retry-After %q, want 1 or 2 seconds", r.header.Get("Retry-After"))
		}
		if st := s.Stats("acme"); st.Throttled != 1 || st.Status[429] != 1 || st.Served[KindJobsList] != 3 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("retry-after date", func(t *testing.T) {
		setFaults(t, Faults{RateLimit: 0.1, Burst: 1, RetryAfterDate: true})
		get(t, srv, cfg, "/api/jobs")
		r := get(t, srv, cfg, "/api/jobs")
		at, err := http.ParseTime(r.header.Get("Retry-After"))
		if r.status != http.StatusTooManyRequests || err != nil {
			t.Fatalf("status %d, Retry-After %q (%v)", r.status, r.header.Get("Retry-After"), err)
		}
		if wait := time.Until(at); wait < 5*time.Second || wait > 12*time.Second {
			t.Errorf("Retry-After is %v away, want about 10s", wait)
		}
	})

	t.Run("server errors", func(t *testing.T) {
		setFaults(t, Faults{ErrorRate: 1})
		seen := map[int]bool{}
		for n := range 30 {
			r := get(t, srv, cfg, "/api/candidates/"+strconv.Itoa(n%5+1))
			seen[r.status] = true
			if r.status == http.StatusOK {
				t.Fatal("status 200 with ErrorRate 1")
			}
		}
		for _, code := range []int{500, 502, 503} {
			if !seen[code] {
				t.Errorf("never answered %d", code)
			}
		}
		if st := s.Stats("acme"); st.ServerErrors != 30 || st.Requests[KindCandidatesList] != 30 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("reproducible", func(t *testing.T) {
		run := func() []int {
			setFaults(t, Faults{ErrorRate: 0.3, FailureRate: 0.2, TruncateRate: 0.2})
			var statuses []int
			for n := range 40 {
				r := get(t, srv, cfg, "/api/candidates/"+strconv.Itoa(n%5+1))
				statuses = append(statuses, r.status*1000+len(r.body)%1000)
			}
			return statuses
		}
		a, b := run(), run()
		if !slices.Equal(a, b) {
			t.Errorf("same faults, same requests, different answers:\n%v\n%v", a, b)
		}
	})

	t.Run("latency", func(t *testing.T) {
		setFaults(t, Faults{Latency: 80 * time.Millisecond})
		start := time.Now()
		get(t, srv, cfg, "/api/jobs")
		if d := time.Since(start); d < 80*time.Millisecond {
			t.Errorf("answered in %v, before the added latency", d)
		}
	})

	t.Run("truncated", func(t *testing.T) {
		setFaults(t, Faults{TruncateRate: 1})
		whole := len(cleanPage(t, s, "acme", ListCandidates, 2))
		r := get(t, srv, cfg, "/api/candidates/2")
		if r.status != http.StatusOK || json.Valid(r.body) || len(r.body) >= whole || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) {
			t.Errorf("status %d, %d of %d bytes, valid JSON %v", r.status, len(r.body), whole, json.Valid(r.body))
		}
		if st := s.Stats("acme"); st.Truncated != 1 || st.Served[KindCandidatesList] != 0 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("method failure", func(t *testing.T) {
		setFaults(t, Faults{FailureRate: 1})
		r := get(t, srv, cfg, "/api/jobs")
		m := decodeObject(t, r.body)
		if r.status != http.StatusOK || m["Method Result"] != "Failure" || m["Error"] == "" {
			t.Errorf("status %d body %s", r.status, r.body)
		}
		if st := s.Stats("acme"); st.Failures != 1 {
			t.Errorf("stats %+v", st)
		}
	})

	t.Run("malformed rows", func(t *testing.T) {
		serials, _ := s.Serials("acme", ListCandidates)
		setFaults(t, Faults{MalformedRate: 0.05, MalformedSerials: []string{serials[7]}})
		bad, err := s.Malformed("acme", ListCandidates)
		if err != nil {
			t.Fatal(err)
		}
		if len(bad) < 5 || !slices.ContainsFunc(bad, func(m MalformedRow) bool { return m.Serial == serials[7] }) {
			t.Fatalf("malformed rows %v", bad)
		}
		kinds := map[string]int{}
		served := 0
		for _, m := range bad {
			kinds[m.Kind]++
			var p struct {
				Candidates []map[string]any
			}
			json.Unmarshal(get(t, srv, cfg, "/api/candidates/"+strconv.Itoa(m.Page)).body, &p)
			row := p.Candidates[m.Position]
			switch m.Kind {
			case MalformedMissingSerial:
				if _, ok := row["Candidate Serial"]; ok {
					t.Errorf("%v: row has its serial", m)
				}
			case MalformedBadTimestamp:
				if row["Candidate Serial"] != m.Serial || row["Create Date Timestamp"] != "abc" {
					t.Errorf("%v: row %v", m, row)
				}
			}
			served++
		}
		if kinds[MalformedMissingSerial] == 0 || kinds[MalformedBadTimestamp] == 0 {
			t.Errorf("kinds %v", kinds)
		}
		truth, _ := s.Candidate("acme", bad[0].Serial, "")
		if !json.Valid(truth.Row) || !strings.Contains(string(truth.Row), bad[0].Serial) {
			t.Error("the fault changed the ground truth")
		}
		if got := get(t, srv, cfg, "/api/candidate/"+bad[0].Serial); got.status != http.StatusOK {
			t.Errorf("detail of a malformed row: status %d", got.status)
		}
		if st := s.Stats("acme"); st.MalformedRows < int64(served) {
			t.Errorf("stats count %d malformed rows, served %d", st.MalformedRows, served)
		}
	})

	t.Run("failing page", func(t *testing.T) {
		setFaults(t, Faults{FailPages: []PageFault{{List: ListCandidates, Page: 2, Times: 2}}})
		for i, want := range []int{503, 503, 200, 200} {
			if r := get(t, srv, cfg, "/api/candidates/2"); r.status != want {
				t.Errorf("try %d: status %d, want %d", i+1, r.status, want)
			}
		}
		if r := get(t, srv, cfg, "/api/candidates/3"); r.status != http.StatusOK {
			t.Errorf("another page: status %d", r.status)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, f := range []Faults{{ErrorRate: 2}, {MalformedRate: -0.1}, {FailPages: []PageFault{{List: "people"}}}, {RateLimit: -1}} {
			if err := s.SetFaults("acme", f); err == nil {
				t.Errorf("%+v accepted", f)
			}
		}
		if err := s.SetFaults("nobody", Faults{}); err == nil {
			t.Error("unknown tenant accepted")
		}
	})
}

// cleanPage renders a list page without faults.
func cleanPage(t *testing.T, s *Server, sub, list string, page int) []byte {
	t.Helper()
	tn, err := s.tenant(sub)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := tn.listPage(list, page)
	return body
}

func TestFaults_JSON(t *testing.T) {
	in := Faults{RateLimit: 5, Burst: 10, Latency: 250 * time.Millisecond, LinkTTL: time.Hour, ErrorRate: 0.1,
		FailPages: []PageFault{{List: ListJobs, Page: 1, Times: 2, Status: 500}}, WebhookOutOfOrder: true}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"latency":"250ms"`) || !strings.Contains(string(b), `"link_ttl":"1h0m0s"`) {
		t.Errorf("durations not strings: %s", b)
	}
	var out Faults
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip\n got %+v\nwant %+v", out, in)
	}
	if err := json.Unmarshal([]byte(`{"latency":"soon"}`), &out); err == nil {
		t.Error("bad duration accepted")
	}
}
