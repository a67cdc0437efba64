package applicantstack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stackhouse/stackhouse/applicantstack"
	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/schema"
)

const benchCandidates = 20000 // 200 pages

// BenchmarkClient_listPages pages through 200 candidate pages with the
// client (decode, per-record errors, raw kept) at concurrency 4; the
// bare variant makes the same requests with net/http and discards the
// bodies. Compare pages/s of the two.
func BenchmarkClient_listPages(b *testing.B) {
	s, c, ten := newFake(b, benchCandidates, func(t *fake.Tenant) { t.Jobs = 50 })
	_ = s
	pages := benchCandidates / applicantstack.PageSize
	ctx := context.Background()
	c.Concurrency = 4

	// client decodes every row; rows, as a sync's scan does, validates
	// and splits the page and hashes each row as received.
	for _, fetch := range []struct {
		name string
		page func(context.Context, int) (int, error)
	}{
		{"client", func(ctx context.Context, p int) (int, error) {
			pg, err := c.CandidatesPage(ctx, p)
			if err != nil {
				return 0, err
			}
			return len(pg.Records), nil
		}},
		{"rows", func(ctx context.Context, p int) (int, error) {
			pg, err := c.CandidateRowsPage(ctx, p, schema.RowHash)
			if err != nil {
				return 0, err
			}
			return len(pg.Records), nil
		}},
	} {
		b.Run(fetch.name, func(b *testing.B) {
			records := 0
			for b.Loop() {
				g, gctx := errgroup.WithContext(ctx)
				g.SetLimit(4)
				res := make([]int, pages+1)
				for p := 1; p <= pages; p++ {
					g.Go(func() (err error) {
						res[p], err = fetch.page(gctx, p)
						return err
					})
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				for _, n := range res {
					records += n
				}
			}
			b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}

	b.Run("bare", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			g, gctx := errgroup.WithContext(ctx)
			g.SetLimit(4)
			for p := 1; p <= pages; p++ {
				g.Go(func() error {
					req, _ := http.NewRequestWithContext(gctx, "GET", c.BaseURL+"/api/candidates/"+strconv.Itoa(p), nil)
					req.Header.Set("Token", ten.Token)
					resp, err := hc.Do(req)
					if err != nil {
						return err
					}
					io.Copy(io.Discard, resp.Body)
					return resp.Body.Close()
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(pages*b.N)/b.Elapsed().Seconds(), "pages/s")
	})
}

// BenchmarkClient_rateLimit reads 4,000 candidate pages' worth of requests
// (a few hundred pages, repeated) against a fake that enforces 50 requests
// a second with a burst of 2. "known": the client is configured at the
// limit, and must use ≥ 95% of it with no 429. "unknown": the client starts
// at 8× the limit and adapts; the 429 share is the waste (target ≤ 2%).
func BenchmarkClient_rateLimit(b *testing.B) {
	const limit, requests = 50.0, 600
	for _, tc := range []struct {
		name string
		rps  float64
	}{{"known", limit}, {"unknown", 8 * limit}} {
		b.Run(tc.name, func(b *testing.B) {
			s, c, ten := newFake(b, 3000, nil)
			s.SetFaults(ten.Subdomain, fake.Faults{RateLimit: limit, Burst: 2})
			c.RequestsPerSecond, c.Burst, c.Concurrency = tc.rps, 1, 4
			ctx := context.Background()
			for b.Loop() {
				s.ResetStats(ten.Subdomain)
				start := time.Now()
				g, gctx := errgroup.WithContext(ctx)
				g.SetLimit(4)
				for i := range requests {
					g.Go(func() error {
						_, err := c.CandidatesPage(gctx, 1+i%30)
						return err
					})
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				el := time.Since(start)
				st := s.Stats(ten.Subdomain)
				b.ReportMetric(float64(requests)/el.Seconds()/limit*100, "%-of-limit")
				b.ReportMetric(float64(st.Throttled)/float64(st.Requests[fake.KindCandidatesList])*100, "%-429")
			}
		})
	}
}

// BenchmarkSanitize_detail sanitizes candidate details as the fake serves
// them: "raw" is the client's first pass (signed links to cut), "again" a
// second pass over the result, which the mapper and the warehouse make as
// guards and which must cost a scan, not a decode.
func BenchmarkSanitize_detail(b *testing.B) {
	_, c, _ := newFake(b, 200, nil)
	ctx := context.Background()
	p, err := c.CandidatesPage(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	var raws, clean []json.RawMessage
	for _, row := range p.Records[:50] {
		d, err := c.Candidate(ctx, string(row.Serial))
		if err != nil {
			b.Fatal(err)
		}
		raw, err := rawDetail(c, string(row.Serial))
		if err != nil {
			b.Fatal(err)
		}
		clean, raws = append(clean, d.Raw), append(raws, raw)
	}
	for _, tc := range []struct {
		name string
		in   []json.RawMessage
	}{{"raw", raws}, {"again", clean}} {
		b.Run(tc.name, func(b *testing.B) {
			bytes := 0
			for _, r := range tc.in {
				bytes += len(r)
			}
			b.SetBytes(int64(bytes / len(tc.in)))
			i := 0
			for b.Loop() {
				applicantstack.Sanitize(applicantstack.ResourceCandidate, tc.in[i%len(tc.in)])
				i++
			}
		})
	}
}

// rawDetail fetches a candidate's detail as served, before any sanitizing.
func rawDetail(c *applicantstack.Client, serial string) (json.RawMessage, error) {
	req, err := http.NewRequest(http.MethodGet, c.BaseURL+"/api/candidate/"+serial, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Token", c.Token.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// BenchmarkClient_details fetches 2,000 candidate details with the client
// (envelope and record decoded, Raw sanitized) at concurrency 4; the bare
// variant makes the same requests with net/http and discards the bodies.
func BenchmarkClient_details(b *testing.B) {
	const n = 2000
	_, c, _ := newFake(b, n, nil)
	ctx := context.Background()
	c.Concurrency = 4
	var serials []string
	for p := 1; p <= n/applicantstack.PageSize; p++ {
		page, err := c.CandidatesPage(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range page.Records {
			serials = append(serials, string(r.Serial))
		}
	}
	fetch := func(b *testing.B, get func(string) error) {
		for b.Loop() {
			var g errgroup.Group
			g.SetLimit(4)
			for _, s := range serials {
				g.Go(func() error { return get(s) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(serials))/b.Elapsed().Seconds(), "details/s")
	}
	b.Run("client", func(b *testing.B) {
		fetch(b, func(s string) error { _, err := c.Candidate(ctx, s); return err })
	})
	b.Run("bare", func(b *testing.B) {
		fetch(b, func(s string) error { _, err := rawDetail(c, s); return err })
	})
}
