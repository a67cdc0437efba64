package fake

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults configures the misbehaviour of one tenant. The zero value is a
// well-behaved server. Every random choice is a hash of (Seed, the request's
// route and page or serial, how many times that same route was requested
// since SetFaults), so a run that makes the same requests sees the same
// faults however its requests interleave.
type Faults struct {
	// Seed seeds fault decisions; 0 means the tenant's seed.
	Seed int64 `json:"seed,omitempty"`

	// RateLimit enforces a token bucket of RateLimit requests per second
	// (wall clock) with Burst tokens; over the limit the answer is 429 with
	// Retry-After in whole seconds, or as an HTTP-date if RetryAfterDate.
	// 0 disables it; Burst 0 means max(1, RateLimit).
	RateLimit      float64 `json:"rate_limit,omitempty"`
	Burst          int     `json:"burst,omitempty"`
	RetryAfterDate bool    `json:"retry_after_date,omitempty"`

	// ErrorRate is the share of requests answered 500, 502 or 503.
	ErrorRate float64 `json:"error_rate,omitempty"`
	// Latency is added before every answer.
	Latency time.Duration `json:"-"`
	// TruncateRate is the share of JSON answers sent as 200 with the body
	// cut off mid-JSON (Content-Length matches the cut body).
	TruncateRate float64 `json:"truncate_rate,omitempty"`
	// FailureRate is the share of requests answered HTTP 200 with
	// {"Method Result":"Failure","Error":…}.
	FailureRate float64 `json:"failure_rate,omitempty"`

	// MalformedRate is the share of list rows served broken, and
	// MalformedSerials names rows (job, candidate or hire serials) that are
	// always broken. A broken row either lacks its serial key or has a
	// "Create Date Timestamp" of "abc" (hires: "Create Date"). Which rows are
	// broken depends on Seed and the serial only, never on request order;
	// Server.Malformed lists them. Detail responses are never broken.
	MalformedRate    float64  `json:"malformed_rate,omitempty"`
	MalformedSerials []string `json:"malformed_serials,omitempty"`

	// FailPages makes list pages fail their first Times requests.
	FailPages []PageFault `json:"fail_pages,omitempty"`

	// LinkTTL expires attachment links early: a link stops working LinkTTL
	// (fake clock) after the detail that carried it was served, while
	// apikey_expires still announces midnight. Negative: links never work.
	LinkTTL time.Duration `json:"-"`
	// DropFiles makes the file host fail while the API answers: every
	// attachment request has its connection closed without an answer (the
	// client sees a transport error, as when the host is down). Counted in
	// Stats.Requests and Stats.Status[0].
	DropFiles bool `json:"drop_files,omitempty"`

	// WebhookDuplicateRate is the share of stage-change notifications
	// delivered twice; WebhookOutOfOrder swaps every pair of consecutive
	// notifications (a held notification is sent after WebhookHold if no
	// other follows).
	WebhookDuplicateRate float64       `json:"webhook_duplicate_rate,omitempty"`
	WebhookOutOfOrder    bool          `json:"webhook_out_of_order,omitempty"`
	WebhookHold          time.Duration `json:"-"`
}

// PageFault makes one list page fail its first Times requests with Status
// (default 503).
type PageFault struct {
	List   string `json:"list"` // ListJobs, ListCandidates or ListHires
	Page   int    `json:"page"`
	Times  int    `json:"times"`
	Status int    `json:"status,omitempty"`
}

// faultsJSON carries the durations of Faults as strings ("250ms") in JSON.
type faultsJSON struct {
	Latency     string `json:"latency,omitempty"`
	LinkTTL     string `json:"link_ttl,omitempty"`
	WebhookHold string `json:"webhook_hold,omitempty"`
}

// MarshalJSON encodes durations as Go duration strings.
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	return json.Marshal(struct {
		plain
		faultsJSON
	}{plain(f), faultsJSON{durationString(f.Latency), durationString(f.LinkTTL), durationString(f.WebhookHold)}})
}

// UnmarshalJSON decodes durations written as Go duration strings.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	aux := struct {
		*plain
		faultsJSON
	}{plain: (*plain)(f)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		s    string
		dst  *time.Duration
	}{{"latency", aux.faultsJSON.Latency, &f.Latency}, {"link_ttl", aux.faultsJSON.LinkTTL, &f.LinkTTL}, {"webhook_hold", aux.faultsJSON.WebhookHold, &f.WebhookHold}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.dst = v
	}
	return nil
}

func durationString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func (f Faults) validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"error_rate", f.ErrorRate}, {"truncate_rate", f.TruncateRate}, {"failure_rate", f.FailureRate}, {"malformed_rate", f.MalformedRate}, {"webhook_duplicate_rate", f.WebhookDuplicateRate}} {
		if r.v < 0 || r.v > 1 || math.IsNaN(r.v) {
			return fmt.Errorf("%s: %v not in [0, 1]", r.name, r.v)
		}
	}
	if f.RateLimit < 0 || f.Burst < 0 || f.Latency < 0 {
		return fmt.Errorf("rate_limit, burst and latency must not be negative")
	}
	for i, p := range f.FailPages {
		if p.List != ListJobs && p.List != ListCandidates && p.List != ListHires {
			return fmt.Errorf("fail_pages[%d].list: %q is not jobs, candidates or hires", i, p.List)
		}
		if p.Status != 0 && (p.Status < 400 || p.Status > 599) {
			return fmt.Errorf("fail_pages[%d].status: %d is not an error status", i, p.Status)
		}
	}
	return nil
}

// faultState is a tenant's fault configuration and the counters that make
// its decisions reproducible.
type faultState struct {
	mu        sync.Mutex
	f         Faults
	seed      uint64
	malformed map[string]bool
	attempts  map[string]uint64
	pageFails map[string]int
	tokens    float64
	last      time.Time
}

func (fs *faultState) set(f Faults, tenantSeed int64) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.MalformedSerials = append([]string(nil), f.MalformedSerials...)
	f.FailPages = append([]PageFault(nil), f.FailPages...)
	fs.f = f
	fs.seed = uint64(tenantSeed)
	if f.Seed != 0 {
		fs.seed = uint64(f.Seed)
	}
	fs.malformed = make(map[string]bool, len(f.MalformedSerials))
	for _, s := range f.MalformedSerials {
		fs.malformed[s] = true
	}
	fs.attempts = make(map[string]uint64)
	fs.pageFails = make(map[string]int)
	fs.tokens = float64(fs.burst())
	fs.last = time.Time{}
}

func (fs *faultState) get() Faults {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.f
}

func (fs *faultState) burst() int {
	if fs.f.Burst > 0 {
		return fs.f.Burst
	}
	return max(1, int(math.Ceil(fs.f.RateLimit)))
}

// decision is what the faults do to one request.
type decision struct {
	retryAfter string // non-empty: answer 429 with this Retry-After
	latency    time.Duration
	status     int  // non-zero: answer this error status
	failure    bool // answer 200 with Method Result Failure
	truncate   bool // cut the body
	cut        float64
}

// decide draws the faults of one request to route key (kind and page or
// serial); page is the list page or 0.
func (fs *faultState) decide(kind, key, list string, page int, now time.Time) decision {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := &fs.f
	var d decision
	if f.RateLimit > 0 {
		if wait := fs.take(now); wait > 0 {
			if f.RetryAfterDate {
				d.retryAfter = now.Add(wait + time.Second).UTC().Format(http.TimeFormat)
			} else {
				d.retryAfter = strconv.Itoa(int(math.Ceil(wait.Seconds())))
			}
			return d
		}
	}
	d.latency = f.Latency
	for _, p := range f.FailPages {
		if p.List == list && p.Page == page {
			k := list + "/" + strconv.Itoa(page)
			if fs.pageFails[k] < p.Times {
				fs.pageFails[k]++
				d.status = p.Status
				if d.status == 0 {
					d.status = http.StatusServiceUnavailable
				}
				return d
			}
		}
	}
	n := fs.attempts[key]
	fs.attempts[key] = n + 1
	h := hash(fs.seed, streamFault, hashString(key), n)
	switch {
	case unitFloat(hash(h, 1)) < f.ErrorRate:
		d.status = []int{500, 502, 503}[hash(h, 2)%3]
	case unitFloat(hash(h, 3)) < f.FailureRate:
		d.failure = true
	case unitFloat(hash(h, 4)) < f.TruncateRate:
		d.truncate = true
		d.cut = 0.1 + 0.8*unitFloat(hash(h, 5))
	}
	return d
}

// take removes a token from the bucket, or returns how long until one is
// available (the bucket is left as it was).
func (fs *faultState) take(now time.Time) time.Duration {
	burst := float64(fs.burst())
	if !fs.last.IsZero() {
		fs.tokens = math.Min(burst, fs.tokens+now.Sub(fs.last).Seconds()*fs.f.RateLimit)
	}
	fs.last = now
	if fs.tokens >= 1 {
		fs.tokens--
		return 0
	}
	return time.Duration((1 - fs.tokens) / fs.f.RateLimit * float64(time.Second))
}

// Malformation kinds reported by Server.Malformed.
const (
	MalformedMissingSerial = "missing_serial"
	MalformedBadTimestamp  = "bad_timestamp"
)

// malformedKind returns how the row with serial is broken, or "".
func (fs *faultState) malformedKind(serial string) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !fs.malformed[serial] && fs.f.MalformedRate == 0 {
		return ""
	}
	h := hash(fs.seed, streamMalformed, hashString(serial))
	if !fs.malformed[serial] && unitFloat(h) >= fs.f.MalformedRate {
		return ""
	}
	if h&1 == 0 { // the low bit: the high bits decided the rate
		return MalformedMissingSerial
	}
	return MalformedBadTimestamp
}

// breakRow applies a malformation to a list row.
func breakRow(row record, kind, serialKey, tsKey string) record {
	if kind == MalformedMissingSerial {
		return row.without(serialKey)
	}
	return row.clone().set(tsKey, "abc")
}

func (fs *faultState) duplicateWebhook(seq uint64) bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return unitFloat(hash(fs.seed, streamFault, 7, seq)) < fs.f.WebhookDuplicateRate
}
