package fake

import (
	"maps"
	"sync"
)

// Route kinds, the keys of Stats.Requests and Stats.Served.
const (
	KindJobsList       = "jobs_list"
	KindJob            = "job"
	KindCandidatesList = "candidates_list"
	KindCandidate      = "candidate"
	KindCandidatePut   = "candidate_put"
	KindHiresList      = "hires_list"
	KindHire           = "hire"
	KindHirePut        = "hire_put"
	KindAttachment     = "attachment"
	KindOther          = "other" // unknown paths and methods
)

// List names, for PageFault.List, Server.Serials and Server.Malformed.
const (
	ListJobs       = "jobs"
	ListCandidates = "candidates"
	ListHires      = "hires"
)

// Stats counts what a tenant's API answered since the tenant was added or
// its stats were last reset. Admin requests are not counted.
type Stats struct {
	// Requests counts every request by route kind, whatever the answer.
	Requests map[string]int64 `json:"requests"`
	// Served counts requests answered 200 with a complete success body.
	Served map[string]int64 `json:"served"`
	// Status counts answers by HTTP status code.
	Status map[int]int64 `json:"status"`

	Throttled     int64 `json:"throttled"`      // answered 429
	ServerErrors  int64 `json:"server_errors"`  // answered 5xx
	Failures      int64 `json:"failures"`       // 200 with "Method Result":"Failure"
	Truncated     int64 `json:"truncated"`      // 200 with a cut body
	MalformedRows int64 `json:"malformed_rows"` // broken rows served in list pages

	WebhookAttempts  int64 `json:"webhook_attempts"`  // POSTs made, retries and duplicates included
	WebhookDelivered int64 `json:"webhook_delivered"` // notifications answered 2xx
	WebhookFailed    int64 `json:"webhook_failed"`    // notifications given up after the retries
}

type statsState struct {
	mu sync.Mutex
	s  Stats
}

func newStatsState() *statsState {
	st := &statsState{}
	st.reset()
	return st
}

func (st *statsState) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.s = Stats{Requests: map[string]int64{}, Served: map[string]int64{}, Status: map[int]int64{}}
}

func (st *statsState) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.s
	s.Requests = maps.Clone(s.Requests)
	s.Served = maps.Clone(s.Served)
	s.Status = maps.Clone(s.Status)
	return s
}

func (st *statsState) update(f func(s *Stats)) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f(&st.s)
}

// answered records the answer to one request of kind.
func (st *statsState) answered(kind string, status int, failure, truncated bool, malformed int) {
	st.update(func(s *Stats) {
		s.Requests[kind]++
		s.Status[status]++
		switch {
		case status == 429:
			s.Throttled++
		case status >= 500:
			s.ServerErrors++
		case failure:
			s.Failures++
		case truncated:
			s.Truncated++
		case status == 200:
			s.Served[kind]++
		}
		s.MalformedRows += int64(malformed)
	})
}
