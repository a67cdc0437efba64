package applicantstack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"
)

const testToken = Secret("tok-0123456789abcdef0123456789abcdef0123")

func fmtAll(v any) string {
	return fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
}

// testClient returns a client for srv with fast retries.
func testClient(srv *httptest.Server) *Client {
	c := NewClient("acme", testToken)
	c.BaseURL = srv.URL
	c.MinBackoff = time.Millisecond
	c.MaxBackoff = 5 * time.Millisecond
	c.RequestsPerSecond = 0 // unlimited unless a test sets it
	return c
}

const jobsPage = `{"Method Result":"Success","NumPages":2,"TotalCount":101,"Jobs":[
{"Job Serial":"a2acme00001","Job ID":"1001","Job Name":"CNA","Stage":"Open","Stage Type":"Open","Create Date":"04/24/2020 10:30 AM","Create Date Timestamp":1587738635,"Last Modified Date Timestamp":"1587738700"},
{"Job Serial":"","Job Name":"no serial"},
{"Job Serial":"a2acme00003","Create Date Timestamp":"abc"},
{"Job Serial":"a2acme00004","Job ID":1004,"Job Name":"RN &amp; LPN","Custom Thing":"x"}]}`

func TestClient_JobsPage(t *testing.T) {
	var gotToken, gotPublisher, gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotToken, gotPublisher, gotPath = r.Header.Get("Token"), r.Header.Get("Publisher"), r.URL.Path
		io.WriteString(w, jobsPage)
	}))
	defer srv.Close()
	c := testClient(srv)
	p, err := c.JobsPage(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if gotToken != testToken.Reveal() || gotPublisher != DefaultPublisher || gotPath != "/api/jobs/1" {
		t.Errorf("headers/path: token ok=%v publisher=%q path=%q", gotToken == testToken.Reveal(), gotPublisher, gotPath)
	}
	if p.NumPages != 2 || p.TotalCount != 101 || len(p.Records) != 2 || len(p.Rejected) != 2 {
		t.Fatalf("page = %d pages, %d total, %d records, %d rejected", p.NumPages, p.TotalCount, len(p.Records), len(p.Rejected))
	}
	j := p.Records[1]
	if j.ID != "1004" || j.Name != "RN & LPN" || !strings.Contains(string(j.Raw), "Custom Thing") {
		t.Errorf("record = %+v raw=%s", j, j.Raw)
	}
	if p.Records[0].LastModifiedDateTimestamp != 1587738700 {
		t.Errorf("string timestamp not decoded: %d", p.Records[0].LastModifiedDateTimestamp)
	}
	if p.Rejected[0].Serial != "" || !errors.Is(p.Rejected[0].Err, errNoSerial) {
		t.Errorf("rejected[0] = %v", p.Rejected[0])
	}
	if p.Rejected[1].Serial != "a2acme00003" || !strings.Contains(p.Rejected[1].Error(), "abc") || len(p.Rejected[1].Raw) == 0 {
		t.Errorf("rejected[1] = %v", p.Rejected[1])
	}
}

func TestClient_errors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		is        error
		temporary bool
		mention   string
	}{
		{"unauthorized", 401, `{"Method Result":"Failure","Error":"Invalid access token"}`, ErrUnauthorized, false, "token and subdomain"},
		{"not found", 404, `{"Method Result":"Failure","Error":"Job not found"}`, ErrNotFound, false, "Job not found"},
		{"failure on 200", 200, `{"Method Result":"Failure","Error":"Database busy"}`, ErrFailure, true, "Database busy"},
		{"truncated", 200, `{"Method Result":"Success","NumPages":1,"Jobs":[{"Job Ser`, ErrTruncated, true, "not complete JSON"},
		{"server error", 503, `<html>busy</html>`, nil, true, "503"},
		{"bad request", 400, `{"Method Result":"Failure","Error":"Bad page"}`, nil, false, "Bad page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := testClient(srv)
			c.MaxRetries = 2
			_, err := c.JobsPage(context.Background(), 1)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if e.Temporary() != tt.temporary {
				t.Errorf("Temporary() = %v", e.Temporary())
			}
			if !strings.Contains(err.Error(), tt.mention) || !strings.Contains(err.Error(), "/api/jobs/1") {
				t.Errorf("message %q lacks %q or the path", err, tt.mention)
			}
			want := int32(1)
			if tt.temporary {
				want = 3
			}
			if n.Load() != want {
				t.Errorf("%d requests, want %d", n.Load(), want)
			}
			if strings.Contains(fmtAll(err), testToken.Reveal()) {
				t.Error("error leaks the token")
			}
		})
	}
}

func TestClient_hiresNotEnabled(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := testClient(srv).HiresPage(context.Background(), 1)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "onboarding") {
		t.Fatalf("err = %v, want a not-found error naming the onboarding module", err)
	}
}

func TestClient_retryAfter(t *testing.T) {
	t.Parallel()
	for _, form := range []string{"seconds", "http-date"} {
		t.Run(form, func(t *testing.T) {
			var times []time.Time
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				times = append(times, time.Now())
				if len(times) == 1 {
					if form == "seconds" {
						w.Header().Set("Retry-After", "1")
					} else {
						w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
					}
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				io.WriteString(w, `{"Method Result":"Success","NumPages":1,"Jobs":[]}`)
			}))
			defer srv.Close()
			c := testClient(srv)
			if _, err := c.JobsPage(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			if len(times) != 2 {
				t.Fatalf("%d requests, want 2", len(times))
			}
			// The HTTP date has one-second resolution, so it can mean as
			// little as one second from the first answer.
			if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
				t.Errorf("retried after %v, before Retry-After", gap)
			}
			if s := c.Stats(); s.Throttled != 1 || s.Retries != 1 || s.Requests != 2 {
				t.Errorf("stats = %+v", s)
			}
		})
	}
}

func TestClient_retryCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testClient(srv).JobsPage(ctx, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Error("the wait ignored the context")
	}
}

func TestClient_networkError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c := testClient(srv)
	c.MaxRetries = 3
	_, err := c.CandidatesPage(context.Background(), 1)
	if err == nil || !IsTemporary(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if got := c.Stats().Requests; got != 4 {
		t.Errorf("%d requests, want 4 (1 + 3 retries)", got)
	}
	if strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error repeats the URL: %v", err)
	}
}

func TestClient_rateLimit(t *testing.T) {
	// Not parallel: the check times requests at the server, and other
	// tests' load delays some of them into the next window. At 5/s a
	// request is 200 ms after the one before; at 20/s a delay of 50 ms, as
	// a loaded machine gives, put 22 in a second.
	var mu = make(chan struct{}, 1)
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu <- struct{}{}
		times = append(times, time.Now())
		<-mu
		io.WriteString(w, `{"Method Result":"Success","NumPages":1,"Candidates":[]}`)
	}))
	defer srv.Close()
	c := testClient(srv)
	c.RequestsPerSecond, c.Burst, c.Concurrency = 5, 1, 8
	ctx := context.Background()
	done := make(chan error)
	const n = 12
	for i := 0; i < n; i++ {
		go func() { _, err := c.CandidatesPage(ctx, 1); done <- err }()
	}
	for i := 0; i < n; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// 12 requests at 5/s with burst 1 need at least 11/5 s. Check every
	// window: no second may hold more than rate·1s + burst requests.
	for i := range times {
		in := 0
		for _, t2 := range times {
			if d := t2.Sub(times[i]); d >= 0 && d < time.Second {
				in++
			}
		}
		if in > 6 {
			t.Fatalf("%d requests within one second, limit 5/s burst 1", in)
		}
	}
	if span := times[n-1].Sub(times[0]); span < 2100*time.Millisecond {
		t.Errorf("12 requests took %v, faster than 5/s", span)
	}
}

func TestClient_concurrencyCap(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		inFlight.Add(-1)
		io.WriteString(w, `{"Method Result":"Success","NumPages":1,"Candidates":[]}`)
	}))
	defer srv.Close()
	c := testClient(srv)
	c.Concurrency = 3
	done := make(chan struct{})
	for i := 0; i < 20; i++ {
		go func() { c.CandidatesPage(context.Background(), 1); done <- struct{}{} }()
	}
	for i := 0; i < 20; i++ {
		<-done
	}
	if peak.Load() != 3 {
		t.Errorf("peak concurrency %d, want 3", peak.Load())
	}
}

func TestClient_tokenNeverPrinted(t *testing.T) {
	var logs bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := testClient(srv)
	c.MaxRetries = 1
	c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := c.Candidate(context.Background(), "a4x")
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("client", "client", c, "token", c.Token, "err", err)
	out := logs.String() + fmtAll(c) + fmtAll(err) + fmtAll(c.Token)
	if strings.Contains(out, testToken.Reveal()) {
		t.Fatalf("token printed: %s", out)
	}
	if !strings.Contains(out, "retrying request") {
		t.Errorf("no retry log line: %s", logs.String())
	}
}

func TestClient_Download(t *testing.T) {
	body := bytes.Repeat([]byte("%PDF-1.4 stackhouse "), 100)
	var cut atomic.Int32
	cut.Store(1)
	var sawToken atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Token") != "" {
			sawToken.Store(true)
		}
		switch {
		case r.URL.Query().Get("apikey") != "good":
			w.WriteHeader(http.StatusForbidden)
			return
		case r.URL.Path == "/x/attachment/a6big":
			w.Header().Set("Content-Length", "999999999")
			w.WriteHeader(200)
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		w.Header().Set("Content-Disposition", `attachment; filename="Resume.pdf"`)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if cut.Add(-1) >= 0 { // first attempt: cut off mid-body
			w.Write(body[:100])
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	c := testClient(srv)
	c.MaxFileSize = 1 << 20
	var buf bytes.Buffer
	d, err := c.Download(context.Background(), srv.URL+"/x/attachment/a6file1?apikey=good", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if d.Serial != "a6file1" || d.Bytes != int64(len(body)) || !bytes.Equal(buf.Bytes(), body) ||
		d.ContentType != "application/pdf" || d.FileName != "Resume.pdf" || len(d.SHA256) != 64 {
		t.Errorf("download = %+v (%d bytes buffered)", d, buf.Len())
	}
	if !sawToken.Load() {
		t.Error("token not sent to the account's own host")
	}
	if _, err := c.Download(context.Background(), srv.URL+"/x/attachment/a6file1?apikey=bad", io.Discard); err == nil || strings.Contains(err.Error(), "apikey") {
		t.Errorf("expired link: err = %v (must fail and not print the key)", err)
	}
	if _, err := c.Download(context.Background(), srv.URL+"/x/attachment/a6big?apikey=good", io.Discard); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversize: err = %v", err)
	}
	if _, err := FileSerial("https://acme.applicantstack.com/other/a6x?apikey=k"); err == nil {
		t.Error("FileSerial accepted a path without /attachment/")
	}

	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Token") != "" {
			t.Error("token sent to a foreign host")
		}
		io.WriteString(w, "x")
	}))
	defer other.Close()
	if _, err := c.Download(context.Background(), other.URL+"/x/attachment/a6f?apikey=k", io.Discard); err != nil {
		t.Fatal(err)
	}
}

func TestClient_invalidBaseURL(t *testing.T) {
	c := NewClient("acme", testToken)
	c.BaseURL = "ftp://{subdomain}.example"
	if _, err := c.JobsPage(context.Background(), 1); err == nil || !strings.Contains(err.Error(), "base url") {
		t.Errorf("err = %v", err)
	}
	c = NewClient("", testToken)
	if _, err := c.JobsPage(context.Background(), 1); err == nil {
		t.Error("empty subdomain accepted")
	}
}

func TestClient_Do(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(404)
		io.WriteString(w, `{"Method Result":"Failure","Error":"Candidate not found"}`)
	}))
	defer srv.Close()
	status, body, err := testClient(srv).Do(context.Background(), "GET", "/api/candidate/nope", nil)
	if err != nil || status != 404 || !strings.Contains(string(body), "Candidate not found") {
		t.Errorf("Do = %d %s %v", status, body, err)
	}
}

func TestClient_DownloadFailureOn200(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"Method Result":"Failure","Error":"try later"}`)
			return
		}
		io.WriteString(w, "real bytes")
	}))
	defer srv.Close()
	var buf bytes.Buffer
	d, err := testClient(srv).Download(context.Background(), srv.URL+"/x/attachment/a6x?apikey=k", &buf)
	if err != nil || buf.String() != "real bytes" || d.Bytes != 10 || n.Load() != 2 {
		t.Fatalf("download = %+v %q %v after %d requests", d, buf.String(), err, n.Load())
	}
}

// TestClient_sanitizesAtTheBoundary: nothing the client returns holds what
// Sanitize removes: records of pages and details, and the payloads of
// records that did not decode. Typed fields are read before that, so a
// file's signed link still works.
func TestClient_sanitizesAtTheBoundary(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/o/api/hires/1":
			io.WriteString(w, `{"Method Result":"Success","NumPages":1,"Hires":[
				{"Hire Serial":"e2ok","SSN":"900-12-3456","Birth Date":"01/02/1990","Stage":"New"},
				{"Hire Serial":"e2bad","Date of Hire":["x"],"DOB":"01/02/1990","Note":"ssn 900-12-3456"}]}`)
		case "/api/candidate/a4x":
			io.WriteString(w, `{"Method Result":"Success","Candidate Serial":"a4x","Birthday":"1/2",
				"Files":[{"name":"r.pdf","url":"https://acme.applicantstack.com/x/attachment/a6abc?apikey=K123","is_resume":1}]}`)
		case "/o/api/hire/e2bad":
			io.WriteString(w, `{"Method Result":"Success","Hire Serial":"e2bad","Date of Hire":["x"],"SSN":"900-12-3456"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := testClient(srv)
	ctx := context.Background()
	leaks := func(where string, raw []byte) {
		t.Helper()
		for _, bad := range []string{"900-12-3456", "1990", "Birth", "SSN", "DOB", "K123"} {
			if bytes.Contains(raw, []byte(bad)) {
				t.Errorf("%s keeps %q: %s", where, bad, raw)
			}
		}
	}
	p, err := c.HiresPage(ctx, 1)
	if err != nil || len(p.Records) != 1 || len(p.Rejected) != 1 {
		t.Fatalf("hires page: %+v, %v", p, err)
	}
	leaks("hire list row", p.Records[0].Raw)
	leaks("rejected hire row", p.Rejected[0].Raw)
	if !bytes.Contains(p.Rejected[0].Raw, []byte("e2bad")) {
		t.Errorf("rejected row lost its payload: %s", p.Rejected[0].Raw)
	}
	cd, err := c.Candidate(ctx, "a4x")
	if err != nil {
		t.Fatal(err)
	}
	leaks("candidate detail", cd.Raw)
	if len(cd.Files) != 1 || !strings.Contains(string(cd.Files[0].URL), "apikey=K123") {
		t.Errorf("the typed file link lost its key: %+v", cd.Files)
	}
	_, err = c.Hire(ctx, "e2bad")
	var re *RecordError
	if !errors.As(err, &re) {
		t.Fatalf("hire detail that does not decode: %v", err)
	}
	leaks("hire detail RecordError", re.Raw)
}

// TestCandidate_SanitizedRaw: the detail the client returns is sanitized
// once: SanitizedRaw gives its Raw back as it is (the same bytes, not a
// copy), and a Raw set any other way is sanitized again.
func TestCandidate_SanitizedRaw(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"Method Result":"Success","Candidate Serial":"a4x","Stage":"New",
			"Files":[{"name":"r.pdf","url":"https://acme.applicantstack.com/x/attachment/a6abc?apikey=K123","is_resume":1}]}`)
	}))
	defer srv.Close()
	cd, err := testClient(srv).Candidate(context.Background(), "a4x")
	if err != nil {
		t.Fatal(err)
	}
	got := cd.SanitizedRaw()
	if len(got) == 0 || &got[0] != &cd.Raw[0] || len(got) != len(cd.Raw) {
		t.Errorf("SanitizedRaw of the client's detail is not its Raw: %s", got)
	}
	c := *cd // a copy keeps it
	if got := c.SanitizedRaw(); len(got) == 0 || &got[0] != &cd.Raw[0] {
		t.Errorf("SanitizedRaw of a copy: %s", got)
	}
	for _, raw := range []string{
		`{"Candidate Serial":"a4x","SSN":"900-12-3456"}`,
		`{"Candidate Serial":"a4x","Note":"ssn 900-12-3456","Files":[{"url":"https://x/a?apikey=K123"}]}`,
	} {
		c.Raw = json.RawMessage(raw)
		out := c.SanitizedRaw()
		for _, bad := range []string{"900-12-3456", "K123", "SSN"} {
			if bytes.Contains(out, []byte(bad)) {
				t.Errorf("SanitizedRaw of a Raw set by hand keeps %q: %s", bad, out)
			}
		}
	}
	var empty Candidate
	if got := empty.SanitizedRaw(); got != nil {
		t.Errorf("SanitizedRaw of no Raw = %s, want nil", got)
	}
}

// TestClient_unreachable: a host name that does not exist fails at once,
// with no retry; a refused connection is retried (the server may be
// restarting); both are reported as unreachable.
func TestClient_unreachable(t *testing.T) {
	t.Run("no such host", func(t *testing.T) {
		c := NewClient("acme", testToken)
		c.BaseURL = "http://acme.applicantstack.invalid"
		c.RequestsPerSecond = 0
		dials := 0
		c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials++
			return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "acme.applicantstack.invalid", IsNotFound: true}}
		}}}
		_, err := c.CandidatesPage(context.Background(), 1)
		if err == nil || !IsUnreachable(err) || IsTemporary(err) {
			t.Fatalf("err = %v: want unreachable and not temporary", err)
		}
		if got := c.Stats().Requests; got != 1 || dials != 1 {
			t.Errorf("%d requests, %d dials: want 1, no retry of a name that does not exist", got, dials)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c := NewClient("acme", testToken)
		c.BaseURL = "http://" + addr
		c.RequestsPerSecond = 0
		c.MinBackoff, c.MaxBackoff, c.MaxRetries = time.Millisecond, time.Millisecond, 2
		_, err = c.CandidatesPage(context.Background(), 1)
		if err == nil || !IsUnreachable(err) || !IsTemporary(err) {
			t.Fatalf("err = %v: want unreachable and temporary", err)
		}
		if got := c.Stats().Requests; got != 3 {
			t.Errorf("%d requests, want 3 (1 + 2 retries)", got)
		}
	})
	t.Run("server answered", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
		defer srv.Close()
		c := testClient(srv)
		c.MaxRetries = 0
		if _, err := c.CandidatesPage(context.Background(), 1); err == nil || IsUnreachable(err) {
			t.Errorf("err = %v: a 502 is not unreachable", err)
		}
	})
}

// TestClient_CandidateRowsPage: the undecoded rows of a page decode to what
// CandidatesPage gives, rejections included; Serial is read without
// decoding where it is a plain string and left "" where it is not;
// ReceivedHash hashes the row as sent, and Raw is sanitized.
func TestClient_CandidateRowsPage(t *testing.T) {
	const page = `{"Method Result":"Success","NumPages":1,"TotalCount":7,"Candidates":[
{"Candidate Serial":"a4one","First Name":"Ann","Stage":"New"},
{"Candidate Serial":" a4two ","SSN":"900-12-3456","Note":"x"},
{"Candidate Serial":"a4\u0074hree","Stage":"New"},
{"First Name":"no serial"},
{"Candidate Serial":"a4bad","First Name":["x"]},
{"Candidate Serial":17,"Stage":"New"},
{"Other":{"Candidate Serial":"a4nested"},"Candidate Serial":"a4outer"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, page)
	}))
	defer srv.Close()
	c := testClient(srv)
	ctx := context.Background()
	want, err := c.CandidatesPage(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	hash := func(raw json.RawMessage) string { return fmt.Sprintf("%d:%x", len(raw), sha256.Sum256(raw)) }
	got, err := c.CandidateRowsPage(ctx, 1, hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.Number != 1 || got.NumPages != 1 || got.TotalCount != 7 || len(got.Records) != 7 || len(got.Rejected) != 0 {
		t.Fatalf("page: %+v", got)
	}
	var decoded []Candidate
	var rejected []*RecordError
	for i := range got.Records {
		if cd, rerr := got.Records[i].Decode(); rerr != nil {
			rejected = append(rejected, rerr)
		} else {
			decoded = append(decoded, cd)
		}
	}
	if !reflect.DeepEqual(decoded, want.Records) {
		t.Errorf("decoded rows:\n%+v\nCandidatesPage:\n%+v", decoded, want.Records)
	}
	if !reflect.DeepEqual(fmt.Sprint(rejected), fmt.Sprint(want.Rejected)) {
		t.Errorf("rejected rows:\n%v\nCandidatesPage:\n%v", rejected, want.Rejected)
	}
	serials := []string{"a4one", "a4two", "a4three", "", "a4bad", "", "a4nested"}
	for i := range got.Records {
		r := &got.Records[i]
		if r.Serial != serials[i] {
			t.Errorf("row %d: Serial %q, want %q", i, r.Serial, serials[i])
		}
		if bytes.Contains(r.Raw(), []byte("900-12-3456")) {
			t.Errorf("row %d: Raw keeps the SSN: %s", i, r.Raw())
		}
		if changed := !bytes.Contains([]byte(page), r.Raw()); r.AsReceived() == changed {
			t.Errorf("row %d: AsReceived %v for Raw %s", i, r.AsReceived(), r.Raw())
		}
		if r.AsReceived() && r.ReceivedHash != hash(r.Raw()) {
			t.Errorf("row %d: ReceivedHash is not the hash of the row as sent", i)
		}
		if !r.AsReceived() && r.ReceivedHash == hash(r.Raw()) {
			t.Errorf("row %d: ReceivedHash hashes the sanitized row", i)
		}
	}
}

// TestReadBody: a body is read whole whether its length is announced or
// not (chunked), and reading stops past the limit.
func TestReadBody(t *testing.T) {
	body := strings.Repeat("x", 5000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			io.WriteString(w, body[:100])
			w.(http.Flusher).Flush() // no Content-Length from here on
			io.WriteString(w, body[100:])
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		io.WriteString(w, body)
	}))
	defer srv.Close()
	for _, tt := range []struct {
		path   string
		limit  int64
		length int64 // the announced length
		want   int
	}{
		{"/length", 10000, 5000, 5000},
		{"/chunked", 10000, -1, 5000},
		{"/length", 5001, 5000, 5000},
		{"/length", 5000, 5000, 5000}, // limit reached: ReadAll's path
		{"/length", 100, 5000, 100},
		{"/chunked", 100, -1, 100},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := readBody(resp, tt.limit)
		resp.Body.Close()
		if err != nil || len(got) != tt.want || resp.ContentLength != tt.length || string(got) != body[:len(got)] {
			t.Errorf("%s, limit %d: %d bytes (length %d), %v; want %d", tt.path, tt.limit, len(got), resp.ContentLength, err, tt.want)
		}
	}
}

// TestClient_keepsConnections: the connections of requests made at the
// client's concurrency are kept for the next ones rather than closed
// (http.DefaultTransport keeps only 2 idle connections a host). Ten waves
// of 8 requests: the first opens 8 connections, the others reuse them.
func TestClient_keepsConnections(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"Method Result":"Success","NumPages":1,"Candidates":[]}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := testClient(srv)
	c.Concurrency = 8
	for range 10 {
		var wave stdsync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wave.Go(func() {
				<-start
				if _, err := c.CandidatesPage(context.Background(), 1); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wave.Wait()
		time.Sleep(20 * time.Millisecond) // the connections go back to the pool
	}
	// A few more than 8 may be dialled while a finished request's
	// connection is on its way back; without the pool it is about 62.
	if n := conns.Load(); n > 12 {
		t.Errorf("10 waves of 8 requests opened %d connections; want 8 (at most 12)", n)
	}
}
