// Package applicantstack is a client for the ApplicantStack REST API as it
// really is: label-keyed JSON, 100 rows a page with the page number in the
// path, "Method Result" failures on HTTP 200, no filters, signed attachment
// links that expire at the account's midnight, and undocumented rate limits.
//
// A Client is safe for concurrent use. It limits itself (requests per second
// and concurrent requests per account), retries temporary failures with
// capped, jittered exponential backoff, obeys Retry-After, and never prints
// its token.
package applicantstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults for a new Client's fields.
const (
	DefaultBaseURL           = "https://{subdomain}.applicantstack.com"
	DefaultPublisher         = "stackhouse"
	DefaultRequestsPerSecond = 5
	DefaultBurst             = 5
	DefaultConcurrency       = 4
	DefaultMaxRetries        = 6
	DefaultMinBackoff        = 500 * time.Millisecond
	DefaultMaxBackoff        = 30 * time.Second
	DefaultTimeout           = 60 * time.Second
	DefaultMaxBodySize       = 64 << 20
	DefaultMaxFileSize       = 50 << 20
	PageSize                 = 100 // fixed by the API
)

// Client talks to one ApplicantStack account. Set its fields after
// NewClient and before the first request; they must not change afterwards.
type Client struct {
	Subdomain string
	Token     Secret
	// BaseURL is a template: "{subdomain}" is replaced by Subdomain. Point it
	// at a proxy or the fake with "http://127.0.0.1:8089".
	BaseURL   string
	Publisher string

	RequestsPerSecond float64 // the most the client sends; it slows down on 429
	Burst             int
	Concurrency       int // requests in flight at once
	MaxRetries        int // attempts after the first
	MinBackoff        time.Duration
	MaxBackoff        time.Duration
	MaxBodySize       int64 // largest JSON body accepted
	MaxFileSize       int64 // largest attachment downloaded

	HTTPClient *http.Client
	Logger     *slog.Logger

	once    stdsync.Once
	base    *url.URL
	initErr error
	limiter *rate.Limiter
	sem     chan struct{}
	pauseMu stdsync.Mutex
	pause   time.Time   // no request starts before this (set by Retry-After)
	starts  []time.Time // request starts in the last second (under pauseMu)
	cut     time.Time   // when the rate was last cut (under pauseMu)
	stats   counters
}

type counters struct {
	requests, retries, throttled, failures atomic.Int64
}

// Stats counts what a client has done so far.
type Stats struct {
	Requests  int64 // HTTP requests sent, retries included
	Retries   int64 // requests that repeated an earlier one
	Throttled int64 // 429 answers
	Failures  int64 // requests that failed for good
}

// NewClient returns a client for the account with the given subdomain and
// token, with every tunable at its default.
func NewClient(subdomain string, token Secret) *Client {
	return &Client{
		Subdomain:         subdomain,
		Token:             token,
		BaseURL:           DefaultBaseURL,
		Publisher:         DefaultPublisher,
		RequestsPerSecond: DefaultRequestsPerSecond,
		Burst:             DefaultBurst,
		Concurrency:       DefaultConcurrency,
		MaxRetries:        DefaultMaxRetries,
		MinBackoff:        DefaultMinBackoff,
		MaxBackoff:        DefaultMaxBackoff,
		MaxBodySize:       DefaultMaxBodySize,
		MaxFileSize:       DefaultMaxFileSize,
		HTTPClient:        &http.Client{Timeout: DefaultTimeout},
	}
}

// String describes the client without its token.
func (c *Client) String() string { return "applicantstack.Client(" + c.Subdomain + ")" }

// Format keeps %v, %+v and %#v of a Client from printing its fields.
func (c *Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

func (c *Client) init() error {
	c.once.Do(func() {
		if c.Subdomain == "" && strings.Contains(c.BaseURL, "{subdomain}") {
			c.initErr = errors.New("applicantstack: subdomain is empty")
			return
		}
		raw := strings.ReplaceAll(c.BaseURL, "{subdomain}", c.Subdomain)
		u, err := url.Parse(strings.TrimRight(raw, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.initErr = fmt.Errorf("applicantstack: base url %q is not an http(s) URL", raw)
			return
		}
		c.base = u
		rps, burst := c.RequestsPerSecond, max(c.Burst, 1)
		if rps <= 0 {
			rps = float64(rate.Inf)
		}
		c.limiter = rate.NewLimiter(rate.Limit(rps), burst)
		c.sem = make(chan struct{}, max(c.Concurrency, 1))
		if c.HTTPClient == nil {
			c.HTTPClient = &http.Client{Timeout: DefaultTimeout}
		}
		if c.HTTPClient.Transport == nil {
			// http.DefaultTransport keeps 2 idle connections a host: at a
			// concurrency of 8, six of every eight answers closed their
			// connection and the next request opened one (a TLS handshake
			// against the real API). Keep one for each request in flight.
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConnsPerHost = max(c.Concurrency, 2)
			hc := *c.HTTPClient
			hc.Transport = t
			c.HTTPClient = &hc
		}
		if c.Logger == nil {
			c.Logger = slog.New(slog.DiscardHandler)
		}
	})
	return c.initErr
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:  c.stats.requests.Load(),
		Retries:   c.stats.retries.Load(),
		Throttled: c.stats.throttled.Load(),
		Failures:  c.stats.failures.Load(),
	}
}

// Rate returns the request rate the client currently allows itself; it is
// below RequestsPerSecond after 429 answers.
func (c *Client) Rate() float64 {
	if c.init() != nil {
		return 0
	}
	return float64(c.limiter.Limit())
}

// URL returns the absolute URL of an API path such as "/api/jobs/1".
func (c *Client) URL(path string) (string, error) {
	if err := c.init(); err != nil {
		return "", err
	}
	return c.base.String() + "/" + strings.TrimLeft(path, "/"), nil
}

// response is one answered request.
type response struct {
	status int
	header http.Header
	body   []byte
	env    *envelope // decoded when the request was checked
	// recErr is the error decoding a detail record beside the envelope
	// (see Client.detail): a field of the wrong type, not a bad answer.
	recErr error
}

// envelope is every API answer's outer object: list pages carry NumPages
// and one of the arrays, details carry their fields beside Method Result.
// Decoding it once validates the whole body and splits the rows without
// decoding them.
type envelope struct {
	Result     *Text             `json:"Method Result"`
	Error      Text              `json:"Error"`
	NumPages   *Text             `json:"NumPages"`
	TotalCount *Text             `json:"TotalCount"`
	Jobs       []json.RawMessage `json:"Jobs"`
	Candidates []json.RawMessage `json:"Candidates"`
	Hires      []json.RawMessage `json:"Hires"`
}

// Do sends one request to an API path (with retries) and returns the raw
// body and status, whatever "Method Result" says. It is the passthrough
// behind `stackhouse api`; everything else uses the typed methods.
func (c *Client) Do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	r, err := c.roundTrip(ctx, method, path, body, false, nil)
	if r == nil {
		return 0, nil, err
	}
	var e *Error
	if err != nil && !errors.As(err, &e) {
		return r.status, r.body, err
	}
	return r.status, r.body, nil
}

// get fetches an API path and checks both the HTTP status and "Method
// Result"; it returns the body and its decoded envelope.
func (c *Client) get(ctx context.Context, path string) ([]byte, *envelope, error) {
	r, err := c.roundTrip(ctx, http.MethodGet, path, nil, true, nil)
	if err != nil {
		return nil, nil, err
	}
	return r.body, r.env, nil
}

// roundTrip sends a request, retrying temporary failures. With check set, a
// 200 whose body is not complete JSON or whose "Method Result" is not
// "Success" is an error too. A detail's record, when into is set, is
// decoded in the same pass as its envelope.
func (c *Client) roundTrip(ctx context.Context, method, path string, body []byte, check bool, into record) (*response, error) {
	if err := c.init(); err != nil {
		return nil, err
	}
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer func() { <-c.sem }()

	var last *response
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		r, err := c.once1(ctx, method, path, body, check, into)
		if err == nil {
			c.speedUp()
			return r, nil
		}
		if r != nil {
			last = r
		}
		var e *Error
		if !errors.As(err, &e) || !e.Temporary() || attempt >= c.MaxRetries || ctx.Err() != nil {
			return last, c.giveUp(ctx, err)
		}
		if err := c.waitToRetry(ctx, e, attempt); err != nil {
			return last, err
		}
	}
}

// giveUp counts a request that failed for good and returns its error, or
// the context's when the context ended (the cause, not its symptom).
func (c *Client) giveUp(ctx context.Context, err error) error {
	c.stats.failures.Add(1)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// waitToRetry waits before attempt+1 of a request that failed with e:
// jittered exponential backoff, or Retry-After when the server sent one;
// a 429 also slows the client down.
func (c *Client) waitToRetry(ctx context.Context, e *Error, attempt int) error {
	wait := backoff(attempt, c.MinBackoff, c.MaxBackoff)
	if e.Status == http.StatusTooManyRequests {
		c.stats.throttled.Add(1)
		c.slowDown()
	}
	if e.RetryAfter > 0 {
		wait = e.RetryAfter
		c.pauseAll(wait)
	}
	c.Logger.LogAttrs(ctx, slog.LevelDebug, "retrying request",
		slog.String("path", e.Path), slog.Int("status", e.Status),
		slog.Int("attempt", attempt+1), slog.Duration("wait", wait), slog.String("error", e.Error()))
	return sleep(ctx, wait)
}

func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// once1 sends exactly one request after waiting for the limiter and any
// Retry-After pause.
func (c *Client) once1(ctx context.Context, method, path string, body []byte, check bool, into record) (*response, error) {
	if err := c.waitTurn(ctx); err != nil {
		return nil, err
	}
	u := c.base.String() + "/" + strings.TrimLeft(path, "/")
	e := &Error{Method: method, Path: cleanPath(path)}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		e.Err = err
		return nil, e
	}
	c.setHeaders(req)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.stats.requests.Add(1)
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		e.Err = scrub(err)
		return nil, e
	}
	defer drain(resp.Body)
	r := &response{status: resp.StatusCode, header: resp.Header}
	r.body, err = readBody(resp, c.MaxBodySize+1)
	e.Status = resp.StatusCode
	e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if err != nil {
		e.Err = fmt.Errorf("%w: %v", ErrTruncated, scrub(err))
		return r, e
	}
	if int64(len(r.body)) > c.MaxBodySize {
		e.Err = fmt.Errorf("body over %d bytes", c.MaxBodySize)
		return r, e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e.Result, e.Message = resultOf(r.body)
		if e.Message == "" {
			e.Message = excerpt(r.body)
		}
		return r, e
	}
	if !check {
		return r, nil
	}
	r.env = new(envelope)
	if into != nil {
		err = unmarshalRecord(r.body, into, r.env)
	} else {
		err = decodeEnvelope(r.body, r.env)
	}
	var se *json.SyntaxError
	if err != nil && into != nil && !errors.As(err, &se) && !errors.Is(err, io.ErrUnexpectedEOF) {
		// A field of the wrong type: the record's, when the envelope
		// alone decodes (the slow path of a bad record only).
		r.env = new(envelope)
		if json.Unmarshal(r.body, r.env) == nil {
			r.recErr, err = err, nil
		}
	}
	if err != nil {
		if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
			e.Err = fmt.Errorf("%w: body is not complete JSON (%d bytes)", ErrTruncated, len(r.body))
		} else {
			e.Err = fmt.Errorf("envelope: %v", err)
		}
		return r, e
	}
	if r.env.Result == nil || *r.env.Result != "Success" {
		e.Result, e.Message = "(missing)", truncate(string(r.env.Error), 200)
		if r.env.Result != nil {
			e.Result = string(*r.env.Result)
		}
		return r, e
	}
	return r, nil
}

// readBody reads at most limit bytes of resp's body, into one buffer of the
// size the response announces (io.ReadAll would grow one from 512 bytes,
// copying a list page eight times).
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n >= limit {
		return io.ReadAll(io.LimitReader(resp.Body, limit))
	}
	buf := make([]byte, 0, n+1) // +1: room for the read that sees EOF
	for {
		if len(buf) == cap(buf) { // more than announced: let append grow it
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := resp.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil || int64(len(buf)) >= limit {
			return buf, err
		}
	}
}

func (c *Client) setHeaders(req *http.Request) {
	req.Header.Set("Token", c.Token.Reveal())
	req.Header.Set("Publisher", c.Publisher)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stackhouse")
}

func (c *Client) waitTurn(ctx context.Context) error {
	c.pauseMu.Lock()
	until := c.pause
	c.pauseMu.Unlock()
	if d := time.Until(until); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return err
	}
	now := time.Now()
	c.pauseMu.Lock()
	c.starts = append(trimBefore(c.starts, now.Add(-time.Second)), now)
	c.pauseMu.Unlock()
	return nil
}

// trimBefore drops the leading times before t from a sorted slice.
func trimBefore(ts []time.Time, t time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(t) {
		i++
	}
	if i > len(ts)/2 {
		return append(ts[:0], ts[i:]...)
	}
	return ts[i:]
}

// GlobalPause is the shortest Retry-After that holds back every request of
// the client, not only the one it answered: a long wait means the account
// is out of quota, a short one is handled by the adaptive rate.
const GlobalPause = 5 * time.Second

func (c *Client) pauseAll(d time.Duration) {
	if d >= GlobalPause {
		c.pauseUntil(time.Now().Add(d))
	}
}

func (c *Client) pauseUntil(t time.Time) {
	c.pauseMu.Lock()
	if t.After(c.pause) {
		c.pause = t
	}
	c.pauseMu.Unlock()
}

// slowDown and speedUp adapt the rate when the account's limit is unknown.
// A 429 sets the rate to 80% of what was actually sent over the last
// second, or cuts it by 30% if that is lower, at most four times a second
// so that the answers of requests already in flight do not cut it again;
// each success wins back 0.2% up to the configured maximum. A steady state
// then costs roughly one 429 in several hundred requests.
func (c *Client) slowDown() {
	if c.RequestsPerSecond <= 0 {
		return
	}
	now := time.Now()
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if now.Sub(c.cut) < 250*time.Millisecond {
		return
	}
	c.cut = now
	c.starts = trimBefore(c.starts, now.Add(-time.Second))
	cur := float64(c.limiter.Limit())
	next := cur * 0.7
	if n := len(c.starts); n > 1 {
		window := max(now.Sub(c.starts[0]), 100*time.Millisecond).Seconds()
		next = min(next, float64(n)/window*0.8)
	}
	c.limiter.SetLimit(rate.Limit(max(next, 0.2)))
	c.limiter.SetBurst(1) // the server's burst is unknown: space requests evenly
}

func (c *Client) speedUp() {
	if c.RequestsPerSecond <= 0 {
		return
	}
	cur := float64(c.limiter.Limit())
	if cur < c.RequestsPerSecond {
		next := min(cur*1.002+0.001, c.RequestsPerSecond)
		c.limiter.SetLimit(rate.Limit(next))
		if next == c.RequestsPerSecond {
			c.limiter.SetBurst(max(c.Burst, 1))
		}
	}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). It returns 0 when the header is absent or unusable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || n > 24*3600 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 && d <= 24*time.Hour {
			return d
		}
	}
	return 0
}

// backoff is "full jitter" exponential backoff: a random wait in
// [min/2, min·2^attempt], capped at max.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	if lo <= 0 {
		lo = time.Millisecond
	}
	d := lo << min(attempt, 30)
	if d > hi || d <= 0 {
		d = hi
	}
	return lo/2 + time.Duration(rand.Int64N(int64(d-lo/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func drain(rc io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
	rc.Close()
}

// resultOf reads "Method Result" and "Error" from a JSON object body.
func resultOf(body []byte) (result, message string) {
	var env struct {
		Result Text `json:"Method Result"`
		Error  Text `json:"Error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return "", ""
	}
	return string(env.Result), truncate(string(env.Error), 200)
}

func excerpt(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	return truncate(s, 200)
}

// cleanPath drops the query string, which for attachment links is a key.
func cleanPath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return "/" + strings.TrimLeft(p, "/")
}

// scrub removes URLs (and so hosts and signed query strings) from network
// errors; *url.Error prints the full URL.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timeout: %w", err)
	}
	return err
}
