package fake

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestServer_ServeHTTP(t *testing.T) {
	acme := testTenant("acme")
	beta := testTenant("beta")
	beta.Seed = 2
	beta.Onboarding = false
	s, srv := newTestServer(t, acme, beta)

	t.Run("jobs envelope", func(t *testing.T) {
		r := get(t, srv, acme, "/api/jobs")
		want := `{"Method Result":"Success","NumPages":1,"TotalCount":12,"Jobs":[`
		if !bytes.HasPrefix(r.body, []byte(want)) {
			t.Fatalf("body starts %.90s, want %s", r.body, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		p := decodePage(t, r)
		if len(p.Jobs) != 12 {
			t.Fatalf("%d jobs, want 12", len(p.Jobs))
		}
		for i, j := range p.Jobs {
			if id := j["Job ID"]; id != strconv.Itoa(1001+i) {
				t.Errorf("job %d: Job ID %v", i, id)
			}
			if i > 0 && j["Create Date Timestamp"].(float64) <= p.Jobs[i-1]["Create Date Timestamp"].(float64) {
				t.Errorf("job %d not after job %d", i, i-1)
			}
			if j["Last Modified Date Timestamp"].(float64) < j["Create Date Timestamp"].(float64) {
				t.Errorf("job %d modified before created", i)
			}
			if loc := j["Location"].(string); !strings.Contains(loc, ", ") {
				t.Errorf("job %d: Location %q is not \"City, ST\"", i, loc)
			}
		}
	})

	t.Run("candidate paging", func(t *testing.T) {
		p1 := get(t, srv, acme, "/api/candidates")
		for _, path := range []string{"/api/candidates/", "/api/candidates/1", "//api//candidates//1/"} {
			if r := get(t, srv, acme, path); !bytes.Equal(r.body, p1.body) {
				t.Errorf("%s differs from /api/candidates", path)
			}
		}
		first := decodePage(t, p1)
		if first.NumPages != 5 || first.Total != 450 || len(first.Cands) != PageSize {
			t.Fatalf("NumPages %d TotalCount %d rows %d, want 5, 450, 100", first.NumPages, first.Total, len(first.Cands))
		}
		last := decodePage(t, get(t, srv, acme, "/api/candidates/5"))
		if len(last.Cands) != 50 {
			t.Errorf("last page has %d rows, want 50", len(last.Cands))
		}
		past := get(t, srv, acme, "/api/candidates/6")
		if want := `{"Method Result":"Success","NumPages":5,"TotalCount":450,"Candidates":[]}`; string(past.body) != want {
			t.Errorf("page past the end = %s, want %s", past.body, want)
		}
		got := listAll(t, srv, acme, "/api/candidates", "Candidate Serial")
		truth, err := s.Serials("acme", ListCandidates)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, truth) {
			t.Fatalf("listed serials differ from Serials (%d vs %d)", len(got), len(truth))
		}
	})

	t.Run("oldest first", func(t *testing.T) {
		prev := 0.0
		for n := 1; n <= 5; n++ {
			for _, c := range decodePage(t, get(t, srv, acme, "/api/candidates/"+strconv.Itoa(n))).Cands {
				ts := c["Create Date Timestamp"].(float64)
				if ts <= prev {
					t.Fatalf("page %d: %v not after %v", n, ts, prev)
				}
				prev = ts
			}
		}
	})

	t.Run("bad page", func(t *testing.T) {
		for _, path := range []string{"/api/candidates/abc", "/api/jobs/0", "/o/api/hires/-1", "/api/jobs/1x"} {
			if r := get(t, srv, acme, path); r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", path, r.status)
			}
		}
	})

	t.Run("unknown serial", func(t *testing.T) {
		for path, msg := range map[string]string{
			"/api/candidate/a4zzzzzzzzzz": "Candidate not found",
			"/api/candidate/nonsense":     "Candidate not found",
			"/api/job/a2zzzzzzzzzz":       "Job not found",
			"/o/api/hire/e2zzzzzzzzzz":    "Hire not found",
		} {
			r := get(t, srv, acme, path)
			want := `{"Method Result":"Failure","Error":"` + msg + `"}`
			if r.status != http.StatusNotFound || string(r.body) != want {
				t.Errorf("%s: %d %s, want 404 %s", path, r.status, r.body, want)
			}
		}
	})

	t.Run("auth", func(t *testing.T) {
		want := `{"Method Result":"Failure","Error":"Invalid access token"}`
		url := srv.URL + "/api/jobs"
		for name, r := range map[string]reply{
			"missing token":               call(t, http.MethodGet, url, ""),
			"wrong token":                 call(t, http.MethodGet, url, "", "Token", "nope"),
			"other tenant's token (host)": hostCall(t, url, "acme.localhost", beta.Token),
		} {
			if r.status != http.StatusUnauthorized || string(r.body) != want {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		if r := call(t, http.MethodGet, url, "", "token", acme.Token); r.status != http.StatusOK {
			t.Errorf("lowercase token header: status %d", r.status)
		}
	})

	t.Run("tenant by host and token", func(t *testing.T) {
		byToken := get(t, srv, beta, "/api/jobs")
		byHost := hostCall(t, srv.URL+"/api/jobs", "beta.applicantstack.localhost", beta.Token)
		if !bytes.Equal(byToken.body, byHost.body) {
			t.Error("beta by host differs from beta by token")
		}
		if bytes.Equal(byToken.body, get(t, srv, acme, "/api/jobs").body) {
			t.Error("tenants serve the same jobs")
		}
	})

	t.Run("onboarding disabled", func(t *testing.T) {
		for _, path := range []string{"/o/api/hires", "/o/api/hires/1", "/o/api/hire/e2zzzzzzzzzz"} {
			if r := get(t, srv, beta, path); r.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", path, r.status)
			}
		}
		if r := get(t, srv, acme, "/o/api/hires"); r.status != http.StatusOK {
			t.Errorf("acme hires: status %d", r.status)
		}
	})

	t.Run("detail keys", func(t *testing.T) {
		jobs, _ := s.Serials("acme", ListJobs)
		cands, _ := s.Serials("acme", ListCandidates)
		hires, _ := s.Serials("acme", ListHires)
		for _, tc := range []struct {
			path, list string
			extra      []string
		}{
			{"/api/job/" + jobs[0], "/api/jobs", []string{"Job Boards", "Job Listing", "Job Listing Html", "Questionnaire Serials", "Note"}},
			{"/api/candidate/" + cands[0], "/api/candidates", []string{"Cover Letter", "Notes", "Files", "Questionnaires"}},
			{"/o/api/hire/" + hires[0], "/o/api/hires", []string{"Candidate Serial", "Department", "Questionnaires", "Forms"}},
		} {
			detail := keysOf(t, get(t, srv, acme, tc.path).body)
			p := get(t, srv, acme, tc.list)
			rowStart := bytes.IndexByte(p.body, '[') + 1
			row := keysOf(t, p.body[rowStart:])
			want := append(append([]string{"Method Result"}, row...), tc.extra...)
			if !slices.Equal(detail, want) {
				t.Errorf("%s keys\n got %q\nwant %q", tc.path, detail, want)
			}
			for _, k := range detail {
				if strings.HasSuffix(k, "Timestamp") && strings.HasPrefix(tc.path, "/o/") {
					t.Errorf("hire has key %q", k)
				}
			}
		}
	})

	t.Run("methods and unknown paths", func(t *testing.T) {
		if r := call(t, http.MethodPost, srv.URL+"/api/jobs", "{}", "Token", acme.Token); r.status != http.StatusMethodNotAllowed {
			t.Errorf("POST /api/jobs: %d", r.status)
		}
		for _, path := range []string{"/api/nothing", "/o/api/jobs", "/api/hires", "/x/attachment"} {
			if r := get(t, srv, acme, path); r.status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, r.status)
			}
		}
	})
}

// hostCall makes a GET with a Host header naming a tenant.
func hostCall(t *testing.T, url, host, token string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return reply{resp.StatusCode, resp.Header, b.Bytes()}
}

func TestServer_determinism(t *testing.T) {
	crawl := func(t *testing.T, seed int64) []byte {
		cfg := testTenant("acme")
		cfg.Seed = seed
		s, srv := newTestServer(t, cfg)
		var all bytes.Buffer
		for _, l := range []struct{ list, prefix, detail string }{
			{ListJobs, "/api/jobs", "/api/job/"},
			{ListCandidates, "/api/candidates", "/api/candidate/"},
			{ListHires, "/o/api/hires", "/o/api/hire/"},
		} {
			p := decodePage(t, get(t, srv, cfg, l.prefix))
			for n := 1; n <= p.NumPages; n++ {
				all.Write(get(t, srv, cfg, l.prefix+"/"+strconv.Itoa(n)).body)
			}
			serials, _ := s.Serials("acme", l.list)
			for _, serial := range serials {
				// Detail links name the server's port: compare without it.
				all.Write(bytes.ReplaceAll(get(t, srv, cfg, l.detail+serial).body, []byte(srv.URL), nil))
			}
		}
		return all.Bytes()
	}
	a, b, c := crawl(t, 7), crawl(t, 7), crawl(t, 8)
	if !bytes.Equal(a, b) {
		t.Error("two servers with seed 7 serve different bytes")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 serve the same bytes")
	}
}

func TestServer_AddTenant(t *testing.T) {
	s := NewServer()
	t.Cleanup(func() { s.Close() })
	if err := s.AddTenant(testTenant("acme")); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Tenant{
		"duplicate subdomain": testTenant("acme"),
		"duplicate token":     {Subdomain: "other", Token: testTenant("acme").Token},
		"no subdomain":        {Token: "x"},
		"bad subdomain":       {Subdomain: "Acme Corp", Token: "x"},
		"no token":            {Subdomain: "x"},
		"candidates, no jobs": {Subdomain: "x", Token: "x", Candidates: 3},
		"bad time zone":       {Subdomain: "x", Token: "x", TimeZone: "Mars/Olympus"},
		"too many":            {Subdomain: "x", Token: "x", Jobs: 1, Candidates: MaxCandidates + 1},
	} {
		if err := s.AddTenant(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if got := len(s.Tenants()); got != 1 {
		t.Errorf("%d tenants after failed adds, want 1", got)
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/jobs":          "/api/jobs",
		"/api/jobs/":         "/api/jobs",
		"//api/jobs/1":       "/api/jobs/1",
		"/api//candidates//": "/api/candidates",
		"/":                  "/",
		"//":                 "/",
	} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}
