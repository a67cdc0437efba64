package applicantstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Page is one list page. Records holds the rows that decoded; Rejected the
// ones that did not (the page itself still counts as read).
type Page[T any] struct {
	Number     int
	NumPages   int
	TotalCount int // -1 when the API did not send it
	Records    []T
	Rejected   []*RecordError
}

// Resources, as used in paths, errors and stats, and by Sanitize.
const (
	ResourceJob        = "job"
	ResourceCandidate  = "candidate"
	ResourceHire       = "hire"
	ResourceAttachment = "attachment" // a candidate's file link
	ResourceWebhook    = "webhook"    // a stage-change notification
)

type listSpec struct {
	resource, path, key string
}

var (
	jobsList       = listSpec{ResourceJob, "/api/jobs/", "Jobs"}
	candidatesList = listSpec{ResourceCandidate, "/api/candidates/", "Candidates"}
	hiresList      = listSpec{ResourceHire, "/o/api/hires/", "Hires"}
)

// record is implemented by the pointer types of Job, Candidate and Hire.
// setRaw keeps the record as Sanitize leaves it: nothing the client returns
// holds what stackhouse must not store. It is called on bytes that have
// just decoded, so it skips Sanitize's validity check.
type record interface {
	serial() string
	setRaw(json.RawMessage)
	// withEnvelope empties the record and returns what decodes a detail
	// answer into it and env at once.
	withEnvelope(env *envelope) any
}

func (j *Job) withEnvelope(env *envelope) any {
	*j = Job{}
	return &struct {
		*envelope
		*Job
	}{env, j}
}

func (c *Candidate) withEnvelope(env *envelope) any {
	*c = Candidate{}
	return &struct {
		*envelope
		*Candidate
	}{env, c}
}

func (h *Hire) withEnvelope(env *envelope) any {
	*h = Hire{}
	return &struct {
		*envelope
		*Hire
	}{env, h}
}

func (j *Job) serial() string                 { return string(j.Serial) }
func (j *Job) setRaw(b json.RawMessage)       { j.Raw = sanitize(ResourceJob, b, true) }
func (c *Candidate) serial() string           { return string(c.Serial) }
func (c *Candidate) setRaw(b json.RawMessage) { c.Raw = sanitize(ResourceCandidate, b, true) }
func (h *Hire) serial() string                { return string(h.Serial) }
func (h *Hire) setRaw(b json.RawMessage)      { h.Raw = sanitize(ResourceHire, b, true) }

// JobsPage fetches page n (1-based) of the job list.
func (c *Client) JobsPage(ctx context.Context, n int) (*Page[Job], error) {
	return listPage[Job](ctx, c, jobsList, n)
}

// CandidatesPage fetches page n (1-based) of the candidate list.
func (c *Client) CandidatesPage(ctx context.Context, n int) (*Page[Candidate], error) {
	return listPage[Candidate](ctx, c, candidatesList, n)
}

// HiresPage fetches page n (1-based) of the hire list from the onboarding
// module. errors.Is(err, ErrNotFound) or ErrUnauthorized usually means the
// module is not enabled for the account.
func (c *Client) HiresPage(ctx context.Context, n int) (*Page[Hire], error) {
	return listPage[Hire](ctx, c, hiresList, n)
}

// JobPages iterates over every job page in order, driven by NumPages. It
// stops after the first error.
func (c *Client) JobPages(ctx context.Context) iter.Seq2[*Page[Job], error] {
	return pages(ctx, c.JobsPage)
}

// CandidatePages iterates over every candidate page in order.
func (c *Client) CandidatePages(ctx context.Context) iter.Seq2[*Page[Candidate], error] {
	return pages(ctx, c.CandidatesPage)
}

// HirePages iterates over every hire page in order.
func (c *Client) HirePages(ctx context.Context) iter.Seq2[*Page[Hire], error] {
	return pages(ctx, c.HiresPage)
}

func pages[T any](ctx context.Context, fetch func(context.Context, int) (*Page[T], error)) iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		for n := 1; ; n++ {
			p, err := fetch(ctx, n)
			if !yield(p, err) || err != nil || n >= p.NumPages {
				return
			}
		}
	}
}

func listPage[T any, P interface {
	*T
	record
}](ctx context.Context, c *Client, spec listSpec, n int) (*Page[T], error) {
	if n < 1 {
		return nil, fmt.Errorf("%s page %d: pages start at 1", spec.resource, n)
	}
	_, env, err := c.get(ctx, spec.path+strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	p := &Page[T]{Number: n, TotalCount: -1}
	if p.NumPages, err = count(env.NumPages, "NumPages"); err != nil {
		return nil, fmt.Errorf("%s page %d: %w", spec.resource, n, err)
	}
	if tc, err := count(env.TotalCount, "TotalCount"); err == nil {
		p.TotalCount = tc
	}
	rows := env.Jobs
	switch spec.key {
	case "Candidates":
		rows = env.Candidates
	case "Hires":
		rows = env.Hires
	}
	p.Records = make([]T, 0, len(rows))
	for i, raw := range rows {
		var rec T
		if err := decodeRecord(P(&rec), raw); err != nil {
			p.Rejected = append(p.Rejected, &RecordError{
				Resource: spec.resource, Index: (n-1)*PageSize + i,
				Serial: serialOf(raw, spec.resource), Raw: Sanitize(spec.resource, raw), Err: err,
			})
			continue
		}
		p.Records = append(p.Records, rec)
	}
	return p, nil
}

var errNoSerial = errors.New("record has no serial")

func decodeRecord(rec record, raw json.RawMessage) error {
	return finishRecord(rec, raw, json.Unmarshal(raw, rec))
}

// finishRecord completes a record decoded from raw with error err: the
// error named by field, a serial required, Raw set.
func finishRecord(rec record, raw json.RawMessage, err error) error {
	if err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %q: %v", te.Field, err)
		}
		return err
	}
	if rec.serial() == "" {
		return errNoSerial
	}
	rec.setRaw(raw)
	return nil
}

func count(t *Text, key string) (int, error) {
	if t == nil {
		return 0, fmt.Errorf("%s missing", key)
	}
	n, err := strconv.Atoi(string(*t))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q is not a count", key, truncate(string(*t), 20))
	}
	return n, nil
}

// serialOf digs the serial out of a record that failed to decode, if it can.
func serialOf(raw json.RawMessage, resource string) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	key := map[string]string{ResourceJob: "Job Serial", ResourceCandidate: "Candidate Serial", ResourceHire: "Hire Serial"}[resource]
	var s string
	json.Unmarshal(m[key], &s)
	return strings.TrimSpace(s)
}

// Job fetches one job's detail, which adds the description (Job Listing),
// job boards and questionnaire serials to the list fields.
func (c *Client) Job(ctx context.Context, serial string) (*Job, error) {
	var j Job
	return &j, c.detail(ctx, &j, ResourceJob, "/api/job/", serial)
}

// Candidate fetches one candidate's detail: the list fields plus Notes (the
// only stage history), Files (signed links valid until the account's
// midnight), Questionnaires and the cover letter.
func (c *Client) Candidate(ctx context.Context, serial string) (*Candidate, error) {
	var cd Candidate
	return &cd, c.detail(ctx, &cd, ResourceCandidate, "/api/candidate/", serial)
}

// Hire fetches one hire's detail. SSN, DOB, Forms and Questionnaires are
// removed from Raw before it is returned (see Sanitize).
func (c *Client) Hire(ctx context.Context, serial string) (*Hire, error) {
	var h Hire
	return &h, c.detail(ctx, &h, ResourceHire, "/o/api/hire/", serial)
}

func (c *Client) detail(ctx context.Context, rec record, resource, prefix, serial string) error {
	if serial == "" {
		return fmt.Errorf("%s detail: empty serial", resource)
	}
	r, err := c.roundTrip(ctx, http.MethodGet, prefix+url.PathEscape(serial), nil, true, rec)
	if err != nil {
		return err
	}
	if err := finishRecord(rec, r.body, r.recErr); err != nil {
		return &RecordError{Resource: resource, Serial: serial, Raw: Sanitize(resource, r.body), Err: err}
	}
	return nil
}
