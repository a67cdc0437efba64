package applicantstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
)

// newFake starts a fake with one tenant over real loopback HTTP and returns
// a client for it with fast retries.
func newFake(t testing.TB, candidates int, edit func(*fake.Tenant)) (*fake.Server, *applicantstack.Client, fake.Tenant) {
	t.Helper()
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates = 12, candidates
	if edit != nil {
		edit(&ten)
	}
	s, base := faketest.Serve(t, ten)
	c := applicantstack.NewClient(ten.Subdomain, applicantstack.Secret(ten.Token))
	c.BaseURL = base
	c.RequestsPerSecond = 0
	c.MinBackoff, c.MaxBackoff = time.Millisecond, 20*time.Millisecond
	c.MaxRetries = 8
	return s, c, ten
}

// listSerials pages through the whole candidate list with the iterator.
func listSerials(t testing.TB, c *applicantstack.Client) (serials []string, rejected []*applicantstack.RecordError) {
	t.Helper()
	for p, err := range c.CandidatePages(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			serials = append(serials, string(r.Serial))
		}
		rejected = append(rejected, p.Rejected...)
	}
	return serials, rejected
}

func TestClient_againstFake(t *testing.T) {
	s, c, ten := newFake(t, 250, nil)
	ctx := context.Background()

	t.Run("pages", func(t *testing.T) {
		got, rej := listSerials(t, c)
		want, _ := s.Serials(ten.Subdomain, fake.ListCandidates)
		if !slices.Equal(got, want) || len(rej) != 0 {
			t.Fatalf("listed %d serials (%d rejected), fake has %d", len(got), len(rej), len(want))
		}
		if st := s.Stats(ten.Subdomain); st.Requests[fake.KindCandidatesList] != 3 {
			t.Errorf("list requests = %d, want 3 pages", st.Requests[fake.KindCandidatesList])
		}
	})

	t.Run("detail equals ground truth", func(t *testing.T) {
		serials, _ := s.Serials(ten.Subdomain, fake.ListCandidates)
		for _, serial := range serials[:20] {
			cd, err := c.Candidate(ctx, serial)
			if err != nil {
				t.Fatal(err)
			}
			truth, err := s.Candidate(ten.Subdomain, serial, c.BaseURL)
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			json.Unmarshal(truth.Detail, &want)
			if string(cd.Stage) != strings.TrimSpace(want["Stage"].(string)) || string(cd.Email) != strings.TrimSpace(want["Email"].(string)) {
				t.Errorf("%s: stage %q email %q, truth %v %v", serial, cd.Stage, cd.Email, want["Stage"], want["Email"])
			}
			var stages []string
			for _, n := range cd.Notes {
				if sc, ok := applicantstack.ParseStageChange(string(n.Text)); ok {
					stages = append(stages, sc.Stage)
				}
			}
			var wantStages []string
			for _, h := range truth.History[1:] { // History[0] is the application itself
				wantStages = append(wantStages, h.Stage)
			}
			if !slices.Equal(stages, wantStages) {
				t.Errorf("%s: note stages %v, truth %v", serial, stages, wantStages)
			}
			if len(cd.Files) != len(truth.Files) {
				t.Fatalf("%s: %d files, truth %d", serial, len(cd.Files), len(truth.Files))
			}
			for i, f := range cd.Files {
				var buf bytes.Buffer
				d, err := c.Download(ctx, string(f.URL), &buf)
				if err != nil {
					t.Fatal(err)
				}
				if d.SHA256 != truth.Files[i].SHA256 || d.Serial != truth.Files[i].Serial || int(d.Bytes) != truth.Files[i].Size {
					t.Errorf("file %s: %+v, truth %+v", f.URL, d, truth.Files[i])
				}
			}
		}
	})

	t.Run("jobs and hires", func(t *testing.T) {
		var n int
		for p, err := range c.JobPages(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range p.Records {
				d, err := c.Job(ctx, string(j.Serial))
				if err != nil || d.Listing == "" || d.LastModifiedDateTimestamp < d.CreateDateTimestamp {
					t.Fatalf("job %s: %+v %v", j.Serial, d, err)
				}
				n++
			}
		}
		if n != 12 {
			t.Errorf("%d jobs, want 12", n)
		}
		hires, _ := s.Serials(ten.Subdomain, fake.ListHires)
		if len(hires) == 0 {
			t.Fatal("fake has no hires")
		}
		sensitive, _ := s.Sensitive(ten.Subdomain)
		for _, serial := range hires {
			h, err := c.Hire(ctx, serial)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range sensitive {
				if bytes.Contains(h.Raw, []byte(v)) {
					t.Fatalf("hire %s raw keeps sensitive value %q", serial, v)
				}
			}
		}
	})

	t.Run("unknown serial", func(t *testing.T) {
		_, err := c.Candidate(ctx, "a4nope0nope0")
		if !errors.Is(err, applicantstack.ErrNotFound) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		bad := applicantstack.NewClient("acme", "wrong-token")
		bad.BaseURL = c.BaseURL
		_, err := bad.JobsPage(ctx, 1)
		if !errors.Is(err, applicantstack.ErrUnauthorized) || !strings.Contains(err.Error(), "token and subdomain") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestClient_fakeOnboardingDisabled(t *testing.T) {
	_, c, _ := newFake(t, 10, func(t *fake.Tenant) { t.Onboarding = false })
	_, err := c.HiresPage(context.Background(), 1)
	if !errors.Is(err, applicantstack.ErrNotFound) || !strings.Contains(err.Error(), "onboarding") {
		t.Errorf("err = %v", err)
	}
}

// TestClient_fakeFaults pages through the whole list under each fault kind
// and expects exactly the serials the fake holds.
func TestClient_fakeFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults fake.Faults
		check  func(t *testing.T, st fake.Stats, cs applicantstack.Stats)
	}{
		{"server errors", fake.Faults{ErrorRate: 0.3}, func(t *testing.T, st fake.Stats, cs applicantstack.Stats) {
			if st.ServerErrors == 0 || cs.Retries < st.ServerErrors {
				t.Errorf("server errors %d, client retries %d", st.ServerErrors, cs.Retries)
			}
		}},
		{"truncated bodies", fake.Faults{TruncateRate: 0.3}, func(t *testing.T, st fake.Stats, cs applicantstack.Stats) {
			if st.Truncated == 0 || cs.Retries < st.Truncated {
				t.Errorf("truncated %d, retries %d", st.Truncated, cs.Retries)
			}
		}},
		{"method result failure", fake.Faults{FailureRate: 0.3}, func(t *testing.T, st fake.Stats, cs applicantstack.Stats) {
			if st.Failures == 0 || cs.Retries < st.Failures {
				t.Errorf("failures %d, retries %d", st.Failures, cs.Retries)
			}
		}},
		{"latency", fake.Faults{Latency: 20 * time.Millisecond}, nil},
		{"failing page", fake.Faults{FailPages: []fake.PageFault{{List: fake.ListCandidates, Page: 2, Times: 3}}},
			func(t *testing.T, st fake.Stats, cs applicantstack.Stats) {
				if cs.Retries != 3 {
					t.Errorf("retries %d, want 3", cs.Retries)
				}
			}},
		{"rate limit, Retry-After seconds", fake.Faults{RateLimit: 6, Burst: 1}, func(t *testing.T, st fake.Stats, cs applicantstack.Stats) {
			if st.Throttled == 0 || cs.Throttled != st.Throttled {
				t.Errorf("fake throttled %d, client saw %d", st.Throttled, cs.Throttled)
			}
		}},
		{"rate limit, Retry-After date", fake.Faults{RateLimit: 6, Burst: 1, RetryAfterDate: true}, func(t *testing.T, st fake.Stats, cs applicantstack.Stats) {
			if st.Throttled == 0 || cs.Throttled != st.Throttled {
				t.Errorf("fake throttled %d, client saw %d", st.Throttled, cs.Throttled)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each on its own fake; the rate-limited ones mostly wait
			s, c, ten := newFake(t, 1500, nil)
			c.Concurrency = 4
			if tt.faults.RateLimit > 0 {
				c.RequestsPerSecond = 100 // above the fake's limit: it must adapt
			}
			if err := s.SetFaults(ten.Subdomain, tt.faults); err != nil {
				t.Fatal(err)
			}
			got, rej := listSerials(t, c)
			s.SetFaults(ten.Subdomain, fake.Faults{})
			want, _ := s.Serials(ten.Subdomain, fake.ListCandidates)
			if !slices.Equal(got, want) || len(rej) > 0 {
				t.Fatalf("got %d serials (%d rejected), want %d", len(got), len(rej), len(want))
			}
			if tt.check != nil {
				tt.check(t, s.Stats(ten.Subdomain), c.Stats())
			}
		})
	}
}

func TestClient_fakeMalformed(t *testing.T) {
	s, c, ten := newFake(t, 300, nil)
	serials, _ := s.Serials(ten.Subdomain, fake.ListCandidates)
	s.SetFaults(ten.Subdomain, fake.Faults{MalformedRate: 0.05, MalformedSerials: []string{serials[7]}})
	bad, _ := s.Malformed(ten.Subdomain, fake.ListCandidates)
	if len(bad) < 2 {
		t.Fatalf("fake broke only %d rows", len(bad))
	}
	got, rej := listSerials(t, c)
	if len(got)+len(rej) != len(serials) || len(rej) != len(bad) {
		t.Fatalf("%d good + %d rejected, fake serves %d rows with %d broken", len(got), len(rej), len(serials), len(bad))
	}
	for i, b := range bad {
		r := rej[i]
		if r.Index != (b.Page-1)*applicantstack.PageSize+b.Position || len(r.Raw) == 0 {
			t.Errorf("rejected %d at index %d, fake broke page %d position %d", i, r.Index, b.Page, b.Position)
		}
		if b.Kind == fake.MalformedBadTimestamp && r.Serial != b.Serial {
			t.Errorf("rejected serial %q, want %q", r.Serial, b.Serial)
		}
	}
}

func TestClient_fakeExpiredLink(t *testing.T) {
	s, c, ten := newFake(t, 60, nil)
	ctx := context.Background()
	serials, _ := s.Serials(ten.Subdomain, fake.ListCandidates)
	var url string
	for _, serial := range serials {
		cd, err := c.Candidate(ctx, serial)
		if err != nil {
			t.Fatal(err)
		}
		if len(cd.Files) > 0 {
			url = string(cd.Files[0].URL)
			if exp := cd.Files[0].APIKeyExpires.Time(); !exp.After(s.Now()) || exp.Sub(s.Now()) > 25*time.Hour {
				t.Errorf("apikey_expires %v is not the next midnight after %v", exp, s.Now())
			}
			break
		}
	}
	if url == "" {
		t.Fatal("no candidate with files")
	}
	s.Advance(25 * time.Hour)
	_, err := c.Download(ctx, url, io.Discard)
	var e *applicantstack.Error
	if !errors.As(err, &e) || e.Status != 403 || e.Temporary() || strings.Contains(err.Error(), "apikey") {
		t.Errorf("expired link: %v", err)
	}
}

// TestClient_rateCompliance runs the client at the fake's enforced limit:
// the fake must never have to say 429.
func TestClient_rateCompliance(t *testing.T) {
	// Not parallel: it measures the client's pace.
	s, c, ten := newFake(t, 1500, nil)
	// The fake allows a burst of 2 so that loopback jitter (two requests
	// paced 33ms apart arriving 30ms apart) is not counted as a breach.
	s.SetFaults(ten.Subdomain, fake.Faults{RateLimit: 30, Burst: 2})
	c.RequestsPerSecond, c.Burst, c.Concurrency = 30, 1, 8
	start := time.Now()
	got, _ := listSerials(t, c)
	if len(got) != 1500 {
		t.Fatalf("%d serials", len(got))
	}
	st := s.Stats(ten.Subdomain)
	if st.Throttled != 0 {
		t.Errorf("fake answered 429 %d times to a client at its limit", st.Throttled)
	}
	if el := time.Since(start); el < 14*time.Second/30 {
		t.Errorf("15 pages in %v: faster than 30/s with burst 1", el)
	}
}

// TestClient_adaptsToUnknownLimit starts the client far above the fake's
// limit: it must slow down and still read everything.
func TestClient_adaptsToUnknownLimit(t *testing.T) {
	t.Parallel()
	s, c, ten := newFake(t, 3000, nil)
	s.SetFaults(ten.Subdomain, fake.Faults{RateLimit: 10, Burst: 2})
	c.RequestsPerSecond, c.Burst, c.Concurrency = 400, 5, 4
	got, _ := listSerials(t, c)
	if len(got) != 3000 {
		t.Fatalf("%d serials", len(got))
	}
	if r := c.Rate(); r >= 400 {
		t.Errorf("rate still %v after 429s", r)
	}
	st := s.Stats(ten.Subdomain)
	t.Logf("%d requests, %d throttled, final rate %.1f/s", st.Requests[fake.KindCandidatesList], st.Throttled, c.Rate())
}
