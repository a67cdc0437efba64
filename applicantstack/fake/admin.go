package fake

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// errBadStage reports a stage name the tenant's pipeline does not have.
var errBadStage = errors.New("fake: unknown stage")

// editableJobFields are the job keys EditJob may change.
var editableJobFields = []string{"Job Name", "Stage", "Location", "Department", "Job Category", "Job Type", "Salary Range", "Job Listing", "Note"}

// MoveStage moves a candidate to stage as one of the tenant's users, at the
// fake clock's time (or one second after the candidate's last note, if that
// is later, so note times stay strictly increasing). It appends the
// "<user> set Stage to <stage>" note, updates Stage, Stage Type and
// Disposition, and queues the stage-change webhook. stage must be one of
// the tenant's pipeline stages (see Pipeline).
func (s *Server) MoveStage(subdomain, serial, stage string) error {
	t, err := s.tenant(subdomain)
	if err != nil {
		return err
	}
	return s.moveCandidate(t, serial, stage, event{})
}

// MoveMany moves count live candidates to another stage in one call: the
// candidates at evenly spaced list positions between position from
// (0-based) and the end of the list, each to the pipeline stage after the
// one it is in (after the last, the first), so every moved candidate's
// list row changes. It returns their serials in list order. Each move is
// a MoveStage (note, webhook) at the fake clock's time. It lets a
// benchmark change 1% of a large account, or a few rows on the last
// pages, without a round trip per candidate.
func (s *Server) MoveMany(subdomain string, count, from int) ([]string, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		return nil, err
	}
	now := s.Now().Unix()
	t.mu.Lock()
	live := t.liveCandidates()
	if from < 0 || from > live || count < 0 || count > live-from {
		t.mu.Unlock()
		return nil, fmt.Errorf("fake: move %d candidates from position %d: the list has %d", count, from, live)
	}
	serials := make([]string, 0, count)
	bodies := make([][]byte, 0, count)
	span := live - from
	for i := range count {
		// The middle of the i-th of count equal slices: distinct
		// positions whenever count <= span.
		idx := t.candidateAt(from + (2*i+1)*span/(2*count))
		cur := slices.Index(t.stages, t.makeCandidate(idx).stage)
		serial := t.candSer.format(idx)
		body, err := t.move(serial, t.stages[(cur+1)%len(t.stages)], event{}, now)
		if err != nil {
			t.mu.Unlock()
			return nil, err
		}
		serials, bodies = append(serials, serial), append(bodies, body)
	}
	t.mu.Unlock()
	for _, b := range bodies {
		s.hooks.enqueue(t, b)
	}
	return serials, nil
}

// moveCandidate records a move by actor (zero: a tenant user picked by the
// seed) and queues its notification.
func (s *Server) moveCandidate(t *tenant, serial, stage string, actor event) error {
	now := s.Now().Unix()
	t.mu.Lock()
	body, err := t.move(serial, stage, actor, now)
	t.mu.Unlock()
	if err == nil {
		s.hooks.enqueue(t, body)
	}
	return err
}

// move records a stage move and returns the webhook payload; callers hold
// t.mu.
func (t *tenant) move(serial, stage string, actor event, now int64) ([]byte, error) {
	idx, ok := t.candidateIndex(serial)
	if !ok {
		return nil, ErrNotFound
	}
	if !t.hasStage(stage) {
		return nil, fmt.Errorf("%w %q: the pipeline has %q", errBadStage, stage, t.stages)
	}
	c := t.makeCandidate(idx)
	r := newRNG(t.seed, streamMove, uint64(idx), uint64(len(t.moves[idx])))
	e := actor
	if e.user == "" {
		u := t.users[r.intn(len(t.users))]
		e = event{user: u.name, userSerial: u.serial, userType: "USER"}
	}
	e.kind, e.value, e.ts = evStage, stage, max(now, c.lastEventTime()+1)
	switch {
	case stage == stageRejected:
		e.disposition = pick(&r, dispositions)
	case stage == t.withdrawn:
		e.disposition = "Candidate Withdrew"
	}
	t.moves[idx] = append(t.moves[idx], e)
	return t.hookPayload("candidate", e, stage, record{{"Candidate Serial", serial}, {"Job Serial", t.jobSer.format(c.job)}}), nil
}

// hookPayload builds a stage-change notification as reference §12.5 shows.
func (t *tenant) hookPayload(object string, e event, stage string, ids record) []byte {
	p := record{
		{"Object Type", object},
		{"Event Type", "stagechange"},
		{"Domain", t.cfg.Subdomain},
		{"Secret", t.cfg.WebhookSecret},
		{"Event Date", eventTime(e.ts, t.loc).Format(layoutEvent)},
		{"Stage", stage},
	}
	p = append(p, ids...)
	p = append(p, field{"User Serial", e.userSerial}, field{"User Type", e.userType})
	return p.marshal()
}

// MoveHireStage moves a hire to stage ("New", "In Progress" or
// "Complete") as the system, bumps its Last Modified Date and queues the
// hire stage-change webhook.
func (s *Server) MoveHireStage(subdomain, serial, stage string) error {
	t, err := s.tenant(subdomain)
	if err != nil {
		return err
	}
	return s.moveHire(t, serial, stage, event{user: systemUser, userType: "SYSTEM"})
}

func (s *Server) moveHire(t *tenant, serial, stage string, actor event) error {
	now := s.Now().Unix()
	t.mu.Lock()
	if !t.cfg.Onboarding {
		t.mu.Unlock()
		return ErrNotFound
	}
	j, ok := t.hireIndex(serial)
	if !ok {
		t.mu.Unlock()
		return ErrNotFound
	}
	if !slices.Contains(hireStages, stage) {
		t.mu.Unlock()
		return fmt.Errorf("%w %q: hires have %q", errBadStage, stage, hireStages)
	}
	h := t.makeHire(j)
	e := actor
	e.ts = max(now, h.modified+1)
	t.hireEdit[j] = &hireEdit{stage: stage, modified: e.ts}
	body := t.hookPayload("hire", e, stage, record{{"Hire Serial", serial}})
	t.mu.Unlock()
	s.hooks.enqueue(t, body)
	return nil
}

// AddCandidates adds n new applications to open jobs (any job if none is
// open) and returns their serials. They are created at the fake clock's
// time, each at least a second after the previous candidate, so they land
// at the end of the list as new applications do on the real API.
func (s *Server) AddCandidates(subdomain string, n int) ([]string, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		return nil, err
	}
	now := s.Now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case n < 0:
		return nil, fmt.Errorf("fake: add %d candidates: negative count", n)
	case len(t.jobs) == 0:
		return nil, fmt.Errorf("fake: add candidates to %s: the tenant has no jobs", subdomain)
	case t.totalCandidates()+n > MaxCandidates:
		return nil, fmt.Errorf("fake: add %d candidates to %s: more than %d", n, subdomain, MaxCandidates)
	}
	var open []int
	for j := range t.jobs {
		if t.jobField(j, "Stage") == "Open" {
			open = append(open, j)
		}
	}
	if len(open) == 0 {
		open = []int{len(t.jobs) - 1}
	}
	last := int64(0)
	if total := t.totalCandidates(); total > 0 {
		last = t.createOf(total - 1)
	}
	out := make([]string, 0, n)
	for range n {
		idx := t.totalCandidates()
		r := newRNG(t.seed, streamCandidate, uint64(idx), 1)
		last = max(now, last+1)
		t.added = append(t.added, addedCandidate{create: last, job: open[r.intn(len(open))]})
		out = append(out, t.candSer.format(idx))
	}
	return out, nil
}

// DeleteCandidate removes a candidate: its rows, detail and files answer
// as if it never existed. It returns ErrNotFound if it is already gone.
func (s *Server) DeleteCandidate(subdomain, serial string) error {
	t, err := s.tenant(subdomain)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	idx, ok := t.candidateIndex(serial)
	if !ok {
		return ErrNotFound
	}
	t.deleted = slices.Insert(t.deleted, sort.SearchInts(t.deleted, idx), idx)
	delete(t.moves, idx)
	return nil
}

// EditJob sets job fields ("Job Name", "Stage", "Location", "Department",
// "Job Category", "Job Type", "Salary Range", "Job Listing", "Note"; "Stage"
// sets "Stage Type" too) and bumps Last Modified Date and its Timestamp to the
// fake clock's time (at least one second after the previous value). With
// no changes it rewrites the detail-only "Note", so only the timestamps
// change in the list: a client must refetch detail to see the edit.
func (s *Server) EditJob(subdomain, serial string, changes map[string]string) error {
	t, err := s.tenant(subdomain)
	if err != nil {
		return err
	}
	now := s.Now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	j, ok := t.jobIndex(serial)
	if !ok {
		return ErrNotFound
	}
	for k := range changes {
		if !slices.Contains(editableJobFields, k) {
			return fmt.Errorf("fake: job field %q cannot be edited (editable: %q)", k, editableJobFields)
		}
	}
	if len(changes) == 0 {
		changes = map[string]string{"Note": "Updated " + t.dateTime(now)}
	}
	e := t.jobEdits[j]
	prev := t.jobs[j].modified
	if e == nil {
		e = &jobEdit{fields: map[string]string{}}
		t.jobEdits[j] = e
	} else {
		prev = e.modified
	}
	for k, v := range changes {
		e.fields[k] = v
	}
	e.modified = max(now, prev+1)
	return nil
}

// Pipeline returns a tenant's candidate stages: the active ones in order,
// then Hired, Do Not Pursue and, in some tenants, Withdrawn.
func (s *Server) Pipeline(subdomain string) ([]string, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		return nil, err
	}
	return slices.Clone(t.stages), nil
}

// SetFaults replaces a tenant's faults and restarts the counters that make
// them reproducible (rate-limit bucket, per-route attempts, page failures).
func (s *Server) SetFaults(subdomain string, f Faults) error {
	t, err := s.tenant(subdomain)
	if err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return fmt.Errorf("fake: faults: %w", err)
	}
	t.faults.set(f, t.cfg.Seed)
	return nil
}

// Faults returns a tenant's current faults.
func (s *Server) Faults(subdomain string) (Faults, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		return Faults{}, err
	}
	return t.faults.get(), nil
}

// Stats returns a copy of a tenant's counters; an unknown tenant has none.
func (s *Server) Stats(subdomain string) Stats {
	t, err := s.tenant(subdomain)
	if err != nil {
		return newStatsState().snapshot()
	}
	return t.stats.snapshot()
}

// ResetStats zeroes a tenant's counters.
func (s *Server) ResetStats(subdomain string) {
	if t, err := s.tenant(subdomain); err == nil {
		t.stats.reset()
	}
}

// clockJSON is the admin API's view of the fake clock.
type clockJSON struct {
	Now     time.Time `json:"now"`
	Advance string    `json:"advance,omitempty"`
}
