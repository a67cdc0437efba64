package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// StageEvent is one entry of a candidate's stage history.
type StageEvent struct {
	Stage string
	// User is the actor's display name as the note shows it, entities
	// decoded; "System" for the application itself and automated moves,
	// the Publisher header's value for API moves.
	User       string
	UserSerial string // "" unless a tenant user acted
	Time       time.Time
}

// File is the ground truth of one candidate attachment.
type File struct {
	Serial      string // a6…, as in the link path
	Name        string
	ContentType string
	IsResume    bool
	Size        int
	SHA256      string // hex
}

// CandidateTruth is what the API serves about one candidate.
type CandidateTruth struct {
	Serial string
	// Row is the list row, byte for byte as a list page carries it when
	// no fault breaks it.
	Row json.RawMessage
	// Detail is the detail object, byte for byte as GET /api/candidate
	// would answer it now to a client that reached the server at the base
	// URL given to Candidate. The signed parts (Files[].url apikey and
	// apikey_expires) are included and depend on the fake clock: they are
	// stable while the clock stands still.
	Detail json.RawMessage
	// History is the stage history in order: History[0] is the application
	// arriving in "New" (the "Application received from …" note); each later
	// entry matches one "<user> set Stage to <stage>" note.
	History []StageEvent
	Files   []File
}

// JobTruth is what the API serves about one job.
type JobTruth struct {
	Serial string
	Row    json.RawMessage
	Detail json.RawMessage
}

// HireTruth is what the API serves about one hire.
type HireTruth struct {
	Serial          string
	CandidateSerial string // "" for a hire entered directly in onboarding
	Row             json.RawMessage
	Detail          json.RawMessage
	// Sensitive lists values that must never reach the warehouse: SSN, DOB
	// and the document and bank numbers of the forms.
	Sensitive []string
}

// Candidate returns the ground truth of a live candidate; base is the URL
// clients use ("" means https://{subdomain}.applicantstack.com).
func (s *Server) Candidate(subdomain, serial, base string) (CandidateTruth, error) {
	if base == "" {
		base = "https://" + subdomain + ".applicantstack.com"
	}
	now := s.Now().Unix()
	return truthOf(s, subdomain, "candidate", serial, (*tenant).candidateIndex, func(t *tenant, idx int) CandidateTruth {
		return t.candidateTruth(idx, serial, base, now)
	})
}

// truthOf finds the record serial of a kind (candidate, job, hire) in
// subdomain's tenant with index and returns its truth, read under the
// tenant's read lock; ErrNotFound (wrapped) if there is none.
func truthOf[T any](s *Server, subdomain, kind, serial string, index func(*tenant, string) (int, bool), truth func(*tenant, int) T) (T, error) {
	return readTenant(s, subdomain, func(t *tenant) (T, error) {
		i, ok := index(t, serial)
		if !ok {
			var zero T
			return zero, fmt.Errorf("%s %s: %w", kind, serial, ErrNotFound)
		}
		return truth(t, i), nil
	})
}

// readTenant calls read with subdomain's tenant, under its read lock.
func readTenant[T any](s *Server, subdomain string, read func(*tenant) (T, error)) (T, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		var zero T
		return zero, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return read(t)
}

func (t *tenant) candidateTruth(idx int, serial, base string, now int64) CandidateTruth {
	c := t.makeCandidate(idx)
	ct := CandidateTruth{
		Serial: serial,
		Row:    t.candidateRow(c).marshal(),
		Detail: t.candidateDetail(c, base, now).marshal(),
	}
	for _, e := range c.events {
		switch e.kind {
		case evApplied:
			ct.History = append(ct.History, StageEvent{Stage: stageNew, User: systemUser, Time: eventTime(e.ts, t.loc)})
		case evStage:
			ct.History = append(ct.History, StageEvent{Stage: e.value, User: e.user, UserSerial: e.userSerial, Time: eventTime(e.ts, t.loc)})
		}
	}
	for _, f := range t.fileSpecs(idx, &c.person) {
		fs := t.fileSer.format(f.index)
		ct.Files = append(ct.Files, fileTruth(fs, f, t.fileContent(fs, f, &c.person)))
	}
	return ct
}

func fileTruth(serial string, f fileSpec, content []byte) File {
	sum := sha256.Sum256(content)
	return File{Serial: serial, Name: f.name, ContentType: contentTypes[f.format], IsResume: f.resume, Size: len(content), SHA256: hex.EncodeToString(sum[:])}
}

// FileContent returns the bytes of a live candidate's file and its truth.
func (s *Server) FileContent(subdomain, fileSerial string) ([]byte, File, error) {
	t, err := s.tenant(subdomain)
	if err != nil {
		return nil, File{}, err
	}
	t.mu.RLock()
	p, f, ok := t.fileBySerial(fileSerial)
	t.mu.RUnlock()
	if !ok {
		return nil, File{}, fmt.Errorf("file %s: %w", fileSerial, ErrNotFound)
	}
	content := t.fileContent(fileSerial, f, p)
	return content, fileTruth(fileSerial, f, content), nil
}

// Job returns the ground truth of a job.
func (s *Server) Job(subdomain, serial string) (JobTruth, error) {
	return truthOf(s, subdomain, "job", serial, (*tenant).jobIndex, func(t *tenant, j int) JobTruth {
		return JobTruth{Serial: serial, Row: t.jobRow(j).marshal(), Detail: t.jobDetail(j).marshal()}
	})
}

// Hire returns the ground truth of a hire.
func (s *Server) Hire(subdomain, serial string) (HireTruth, error) {
	return truthOf(s, subdomain, "hire", serial, (*tenant).hireIndex, (*tenant).hireTruth)
}

func (t *tenant) hireTruth(j int) HireTruth {
	h := t.makeHire(j)
	ht := HireTruth{
		Serial:    t.hireSer.format(j),
		Row:       t.hireRow(h).marshal(),
		Detail:    t.hireDetail(h).marshal(),
		Sensitive: []string{h.ssn, h.dob, t.sensitiveNumber(h, 1), "999" + t.sensitiveNumber(h, 2)[:6], t.sensitiveNumber(h, 3)},
	}
	if h.entry.cand >= 0 {
		ht.CandidateSerial = t.candSer.format(h.entry.cand)
	}
	return ht
}

// Sensitive returns the sensitive values of every hire of a tenant (see
// HireTruth.Sensitive), for tests that prove none reached the warehouse.
func (s *Server) Sensitive(subdomain string) ([]string, error) {
	return readTenant(s, subdomain, func(t *tenant) ([]string, error) {
		var out []string
		for j := range t.hires {
			out = append(out, t.hireTruth(j).Sensitive...)
		}
		return out, nil
	})
}

// Serials returns the live serials of a list (ListJobs, ListCandidates or
// ListHires) in list order. It is O(records): mind it for huge tenants.
func (s *Server) Serials(subdomain, list string) ([]string, error) {
	return readTenant(s, subdomain, func(t *tenant) ([]string, error) { return t.serials(list) })
}

// serials is Serials; the caller holds t.mu (read).
func (t *tenant) serials(list string) ([]string, error) {
	var out []string
	switch list {
	case ListJobs:
		for j := range t.jobs {
			out = append(out, t.jobSer.format(j))
		}
	case ListCandidates:
		out = make([]string, 0, t.liveCandidates())
		for idx := range t.totalCandidates() {
			if !t.isDeleted(idx) {
				out = append(out, t.candSer.format(idx))
			}
		}
	case ListHires:
		if t.cfg.Onboarding {
			for j := range t.hires {
				out = append(out, t.hireSer.format(j))
			}
		}
	default:
		return nil, fmt.Errorf("fake: unknown list %q", list)
	}
	return out, nil
}

// MalformedRow is a list row that faults serve broken.
type MalformedRow struct {
	Serial   string `json:"serial"`
	Kind     string `json:"kind"`     // MalformedMissingSerial or MalformedBadTimestamp
	Page     int    `json:"page"`     // 1-based list page
	Position int    `json:"position"` // 0-based index in the page's array
}

// Malformed lists the rows of a list that the tenant's current faults
// serve broken. Which rows are broken depends only on Faults (seed, rate,
// serials) and the serial, so a test can call this before or after a sync
// and match the rows its client rejected by page and position (a row
// missing its serial can only be identified that way).
func (s *Server) Malformed(subdomain, list string) ([]MalformedRow, error) {
	serials, err := s.Serials(subdomain, list)
	if err != nil {
		return nil, err
	}
	t, _ := s.tenant(subdomain)
	var out []MalformedRow
	for i, serial := range serials {
		if kind := t.faults.malformedKind(serial); kind != "" {
			out = append(out, MalformedRow{Serial: serial, Kind: kind, Page: i/PageSize + 1, Position: i % PageSize})
		}
	}
	return out, nil
}
