package fake

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// testTenant is small enough to check exhaustively yet has several pages,
// hires (450/40 blocks) and every generated feature.
func testTenant(sub string) Tenant {
	cfg := NewTenant(sub)
	cfg.Jobs = 12
	cfg.Candidates = 450
	cfg.CustomFields = true
	return cfg
}

// serve starts s over loopback HTTP; cleanup closes the listener, then s.
func serve(t testing.TB, s *Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// newTestServer returns a server with the tenants added, served over HTTP.
func newTestServer(t testing.TB, tenants ...Tenant) (*Server, *httptest.Server) {
	t.Helper()
	s := NewServer()
	for _, cfg := range tenants {
		if err := s.AddTenant(cfg); err != nil {
			t.Fatalf("add tenant: %v", err)
		}
	}
	return s, serve(t, s)
}

// serveAcme serves the tenant most tests use, testTenant("acme"), alone.
func serveAcme(t testing.TB) (Tenant, *Server, *httptest.Server) {
	t.Helper()
	cfg := testTenant("acme")
	s, srv := newTestServer(t, cfg)
	return cfg, s, srv
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// call makes one request; header pairs are name, value.
func call(t testing.TB, method, url string, body string, header ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

// get fetches an API path with the tenant's token.
func get(t testing.TB, srv *httptest.Server, cfg Tenant, path string) reply {
	t.Helper()
	return call(t, http.MethodGet, srv.URL+path, "", "Token", cfg.Token)
}

// page is a decoded list page.
type page struct {
	Result   string           `json:"Method Result"`
	NumPages int              `json:"NumPages"`
	Total    int              `json:"TotalCount"`
	Jobs     []map[string]any `json:"Jobs"`
	Cands    []map[string]any `json:"Candidates"`
	Hires    []map[string]any `json:"Hires"`
}

func (p page) rows() []map[string]any {
	switch {
	case p.Jobs != nil:
		return p.Jobs
	case p.Cands != nil:
		return p.Cands
	}
	return p.Hires
}

func decodePage(t testing.TB, r reply) page {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decode page: %v: %.200s", err, r.body)
	}
	return p
}

func decodeObject(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode: %v: %.200s", err, b)
	}
	return m
}

// keysOf returns the keys of a JSON object in document order.
func keysOf(t testing.TB, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %.80s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// listAll reads every page of a list and returns the serials in order.
func listAll(t testing.TB, srv *httptest.Server, cfg Tenant, prefix, serialKey string) []string {
	t.Helper()
	first := decodePage(t, get(t, srv, cfg, prefix))
	var out []string
	for n := 1; n <= first.NumPages; n++ {
		p := decodePage(t, get(t, srv, cfg, prefix+"/"+strconv.Itoa(n)))
		for _, row := range p.rows() {
			out = append(out, row[serialKey].(string))
		}
	}
	return out
}
