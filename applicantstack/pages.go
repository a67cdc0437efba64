package applicantstack

import (
	"bytes"
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

func (j *Job) serial() string           { return string(j.Serial) }
func (j *Job) setRaw(b json.RawMessage) { j.Raw = sanitize(ResourceJob, b, true) }
func (c *Candidate) serial() string     { return string(c.Serial) }
func (c *Candidate) setRaw(b json.RawMessage) {
	c.Raw = sanitize(ResourceCandidate, b, true)
	c.clean = c.Raw
}
func (h *Hire) serial() string           { return string(h.Serial) }
func (h *Hire) setRaw(b json.RawMessage) { h.Raw = sanitize(ResourceHire, b, true) }

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
	p, rows, err := listRows[T](ctx, c, spec, n)
	if err != nil {
		return nil, err
	}
	p.Records = make([]T, 0, len(rows))
	for i, raw := range rows {
		raw = bytes.Clone(raw) // a record's Raw must not hold on to the whole page
		var rec T
		if err := decodeRecord(P(&rec), raw); err != nil {
			p.Rejected = append(p.Rejected, rowError(spec.resource, n, i, raw, err))
			continue
		}
		p.Records = append(p.Records, rec)
	}
	return p, nil
}

// listRows fetches list page n: the page without its records, and the raw
// rows, which the envelope's decode has checked to be valid JSON.
func listRows[T any](ctx context.Context, c *Client, spec listSpec, n int) (*Page[T], []json.RawMessage, error) {
	if n < 1 {
		return nil, nil, fmt.Errorf("%s page %d: pages start at 1", spec.resource, n)
	}
	_, env, err := c.get(ctx, spec.path+strconv.Itoa(n))
	if err != nil {
		return nil, nil, err
	}
	p := &Page[T]{Number: n, TotalCount: -1}
	if p.NumPages, err = count(env.NumPages, "NumPages"); err != nil {
		return nil, nil, fmt.Errorf("%s page %d: %w", spec.resource, n, err)
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
	return p, rows, nil
}

// rowError is the RecordError of row i of list page n.
func rowError(resource string, n, i int, raw json.RawMessage, err error) *RecordError {
	return &RecordError{
		Resource: resource, Index: (n-1)*PageSize + i,
		Serial: serialOf(raw, resource), Raw: Sanitize(resource, raw), Err: err,
	}
}

// CandidateRow is one row of a candidate list page, not yet decoded nor
// sanitized (CandidateRowsPage): change detection compares ReceivedHash,
// and only the rows that changed pay for Raw and Decode.
type CandidateRow struct {
	// Serial is the row's Candidate Serial as Decode would give it, read
	// without decoding the row; "" when it cannot be read that way (not a
	// string, an escaped quote), and then only Decode tells it. A row with
	// a repeated or nested "Candidate Serial" key may show the wrong one
	// here: take it as a guess that a match of the row's hash confirms.
	Serial string
	// ReceivedHash is the hash function given to CandidateRowsPage applied
	// to the row as the API sent it, before Sanitize: the row's hash when
	// Sanitize removes nothing from it, as for almost every list row. What
	// Sanitize would remove never leaves the client: only this hash of the
	// whole row, for a comparison.
	ReceivedHash string
	orig         json.RawMessage // as received: what Decode reads
	raw          json.RawMessage // Raw's result, once asked
	page, index  int
}

// Raw returns the row as Sanitize leaves it (Candidate.Raw).
func (r *CandidateRow) Raw() json.RawMessage {
	if r.raw == nil {
		r.raw = sanitize(ResourceCandidate, r.orig, true)
	}
	return r.raw
}

// AsReceived reports whether Sanitize leaves the row as the API sent it, so
// that ReceivedHash is the hash of Raw.
func (r *CandidateRow) AsReceived() bool {
	raw := r.Raw()
	return len(raw) == len(r.orig) && (len(raw) == 0 || &raw[0] == &r.orig[0])
}

// Decode decodes the row as CandidatesPage does: the candidate, with Raw
// set (a copy: the row shares the page's buffer), or the RecordError
// CandidatesPage would have put in Rejected.
func (r *CandidateRow) Decode() (Candidate, *RecordError) {
	var c Candidate
	if err := checkRecord(&c, unmarshalCandidate(r.orig, &c)); err != nil {
		return Candidate{}, rowError(ResourceCandidate, r.page, r.index, bytes.Clone(r.orig), err) // not a slice of the page
	}
	c.Raw = bytes.Clone(r.Raw())
	c.clean = c.Raw
	return c, nil
}

// CandidateRowsPage fetches page n (1-based) of the candidate list like
// CandidatesPage, with its rows not decoded: Records holds every row, each
// with its ReceivedHash by hash, and Rejected is empty until a row's Decode
// says otherwise.
func (c *Client) CandidateRowsPage(ctx context.Context, n int, hash func(json.RawMessage) string) (*Page[CandidateRow], error) {
	p, rows, err := listRows[CandidateRow](ctx, c, candidatesList, n)
	if err != nil {
		return nil, err
	}
	p.Records = make([]CandidateRow, len(rows))
	for i, raw := range rows {
		p.Records[i] = CandidateRow{Serial: plainMember(raw, candidateSerialKey), ReceivedHash: hash(raw),
			orig: raw, page: n, index: i}
	}
	return p, nil
}

var candidateSerialKey = []byte(`"Candidate Serial":`)

// plainMember reads the first member named by key (quoted, with its colon)
// in the JSON object raw, when its value is a string without an escaped
// quote, as a Text field would decode it; else "".
func plainMember(raw json.RawMessage, key []byte) string {
	i := bytes.Index(raw, key)
	if i < 0 {
		return ""
	}
	v := raw[i+len(key):]
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(v[1:], '"')
	if end < 0 {
		return ""
	}
	var t Text
	if t.UnmarshalJSON(v[:end+2]) != nil { // an escaped quote ended the read early
		return ""
	}
	return string(t)
}

var errNoSerial = errors.New("record has no serial")

func decodeRecord(rec record, raw json.RawMessage) error {
	return finishRecord(rec, raw, json.Unmarshal(raw, rec))
}

// finishRecord completes a record decoded from raw with error err: the
// error named by field, a serial required, Raw set.
func finishRecord(rec record, raw json.RawMessage, err error) error {
	if err := checkRecord(rec, err); err != nil {
		return err
	}
	rec.setRaw(raw)
	return nil
}

// checkRecord is the error of a record decoded with error err: the field
// named, or errNoSerial.
func checkRecord(rec record, err error) error {
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
