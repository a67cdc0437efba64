package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
)

// ErrNoSerial is returned for a record without its serial; the caller
// quarantines such records in rejected_records.
var ErrNoSerial = errors.New("schema: missing serial")

// Mapper turns ApplicantStack records of one account into warehouse rows.
// The zero value maps in UTC with DefaultFunnelRules. A Mapper is safe for
// concurrent use if its fields are not changed.
//
// remote_data and rejected payloads are passed through the privacy policy,
// applicantstack.Sanitize. Records from the applicantstack client are
// already sanitized, which makes this a fast no-op for them (a candidate's
// Raw as the client set it is not scanned again: Candidate.SanitizedRaw);
// it guards rows mapped from records built elsewhere, until the warehouse
// writer's own final guard covers every remote_data column.
type Mapper struct {
	Account  string
	Location *time.Location   // the account's time zone, for display dates; nil means UTC
	Funnel   FunnelRules      // nil means DefaultFunnelRules()
	Now      func() time.Time // for RejectedAt; nil means time.Now
}

func (m Mapper) loc() *time.Location {
	if m.Location == nil {
		return time.UTC
	}
	return m.Location
}

func (m Mapper) funnel() FunnelRules {
	if m.Funnel == nil {
		return DefaultFunnelRules()
	}
	return m.Funnel
}

func (m Mapper) now() time.Time {
	if m.Now == nil {
		return time.Now().UTC()
	}
	return m.Now().UTC()
}

// when prefers the epoch seconds of a "… Timestamp" field and falls back to
// the display date, read in the account's time zone.
func (m Mapper) when(field string, epoch applicantstack.Epoch, display applicantstack.Text) (time.Time, error) {
	if epoch != 0 {
		return epoch.Time(), nil
	}
	t, err := applicantstack.ParseDisplayTime(string(display), m.loc())
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", field, err)
	}
	return t, nil
}

// MapJob maps a job list row or detail. opened_at is the Campaign Start Date
// (when it parses) else the creation time. It fails on a missing Job Serial
// or an unparseable Create Date or Last Modified Date.
func (m Mapper) MapJob(j applicantstack.Job) (Job, error) {
	if j.Serial == "" {
		return Job{}, fmt.Errorf("%w %q", ErrNoSerial, "Job Serial")
	}
	created, err := m.when("Create Date", j.CreateDateTimestamp, j.CreateDate)
	if err != nil {
		return Job{}, err
	}
	updated, err := m.when("Last Modified Date", j.LastModifiedDateTimestamp, j.LastModifiedDate)
	if err != nil {
		return Job{}, err
	}
	opened := created
	if t, err := applicantstack.ParseDisplayTime(string(j.CampaignStartDate), m.loc()); err == nil && !t.IsZero() {
		opened = t
	}
	data := applicantstack.Sanitize(applicantstack.ResourceJob, j.Raw)
	return Job{
		AccountID:       m.Account,
		JobID:           string(j.Serial),
		Code:            string(j.ID),
		Name:            string(j.Name),
		Status:          JobStatus(string(j.Stage), string(j.StageType)),
		RemoteStage:     string(j.Stage),
		Department:      string(j.Department),
		Location:        string(j.Location),
		Category:        string(j.Category),
		JobType:         string(j.Type),
		SalaryRange:     string(j.SalaryRange),
		Description:     string(j.Listing),
		OpenedAt:        opened,
		RemoteCreatedAt: created,
		RemoteUpdatedAt: updated,
		RowHash:         RowHash(data),
		RemoteData:      data,
	}, nil
}

// MapCandidate maps a candidate list row or detail. person_key is the
// trimmed, lowercased e-mail; an unparseable Score is NULL; funnel_stage
// comes from the Funnel rules ("" when none matches). It fails on a missing
// Candidate Serial or an unparseable Create Date.
//
// RowHash is the hash of the sanitized record. A detail record is mapped
// by MapCandidateDetail instead, because change detection compares list
// rows.
func (m Mapper) MapCandidate(c applicantstack.Candidate) (Candidate, error) {
	row, err := m.mapCandidate(c)
	if err != nil {
		return Candidate{}, err
	}
	row.RowHash = RowHash(row.RemoteData)
	return row, nil
}

// MapCandidateRow maps a candidate list row as MapCandidate does, with
// RowHash given: the caller has hashed the sanitized row (RowHash(c.Raw))
// to compare it with the stored one, and a list scan should not hash every
// new row twice.
func (m Mapper) MapCandidateRow(c applicantstack.Candidate, rowHash string) (Candidate, error) {
	row, err := m.mapCandidate(c)
	if err != nil {
		return Candidate{}, err
	}
	row.RowHash = rowHash
	return row, nil
}

// MapCandidateDetail maps a candidate detail fetched for the list row whose
// hash is listHash: RowHash and DetailHash are listHash (see MapCandidate),
// and the detail itself is not hashed.
func (m Mapper) MapCandidateDetail(c applicantstack.Candidate, listHash string) (Candidate, error) {
	row, err := m.mapCandidate(c)
	if err != nil {
		return Candidate{}, err
	}
	row.RowHash, row.DetailHash = listHash, listHash
	return row, nil
}

func (m Mapper) mapCandidate(c applicantstack.Candidate) (Candidate, error) {
	if c.Serial == "" {
		return Candidate{}, fmt.Errorf("%w %q", ErrNoSerial, "Candidate Serial")
	}
	applied, err := m.when("Create Date", c.CreateDateTimestamp, c.CreateDate)
	if err != nil {
		return Candidate{}, err
	}
	funnel, _ := m.funnel().Map(string(c.Stage), string(c.StageType))
	data := c.SanitizedRaw()
	return Candidate{
		AccountID:   m.Account,
		CandidateID: string(c.Serial),
		JobID:       string(c.JobSerial),
		PersonKey:   strings.ToLower(strings.TrimSpace(string(c.Email))),
		FirstName:   string(c.FirstName),
		LastName:    string(c.LastName),
		Email:       string(c.Email),
		Phone:       string(c.Phone),
		City:        string(c.City),
		State:       string(c.State),
		Zip:         string(c.Zip),
		Source:      string(c.Source),
		ReferredBy:  string(c.ReferredBy),
		Rating:      string(c.Rating),
		Disposition: string(c.Disposition),
		Stage:       string(c.Stage),
		StageType:   string(c.StageType),
		FunnelStage: funnel,
		Score:       parseScore(string(c.Score)),
		AppliedAt:   applied,
		RemoteData:  data,
	}, nil
}

func parseScore(s string) *float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

// StageEvents recovers stage changes from a candidate's detail Notes ("<user>
// set Stage to <stage>"), with origin note. Notes without a timestamp are
// skipped: an event is keyed by its time. A past stage with the candidate's
// current stage name is mapped with the current Stage Type.
func (m Mapper) StageEvents(c applicantstack.Candidate) []StageEvent {
	var events []StageEvent
	type key struct {
		stage string
		at    time.Time
	}
	seen := make(map[key]bool)
	rules := m.funnel()
	for _, n := range c.Notes {
		sc, ok := applicantstack.ParseStageChange(string(n.Text))
		if !ok || n.Timestamp == 0 {
			continue
		}
		at := n.Timestamp.Time()
		if seen[key{sc.Stage, at}] {
			continue
		}
		seen[key{sc.Stage, at}] = true
		stageType := ""
		if strings.EqualFold(sc.Stage, string(c.Stage)) {
			stageType = string(c.StageType)
		}
		funnel, _ := rules.Map(sc.Stage, stageType)
		events = append(events, StageEvent{
			AccountID:   m.Account,
			CandidateID: string(c.Serial),
			JobID:       string(c.JobSerial),
			Stage:       sc.Stage,
			FunnelStage: funnel,
			ChangedAt:   at,
			ChangedBy:   sc.User,
			Origin:      OriginNote,
		})
	}
	return events
}

// MapHire maps a hire list row or detail. hire_date and start_date are
// calendar dates. It fails on a missing Hire Serial or an unparseable Date
// of Hire, Create Date or Last Modified Date; a Start Date that is not a
// date (tenants type "TBD") is NULL.
func (m Mapper) MapHire(h applicantstack.Hire) (Hire, error) {
	if h.Serial == "" {
		return Hire{}, fmt.Errorf("%w %q", ErrNoSerial, "Hire Serial")
	}
	hired, err := applicantstack.ParseDate(string(h.DateOfHire))
	if err != nil {
		return Hire{}, fmt.Errorf("%q: %w", "Date of Hire", err)
	}
	start, _ := applicantstack.ParseDate(string(h.StartDate))
	created, err := m.when("Create Date", 0, h.CreateDate)
	if err != nil {
		return Hire{}, err
	}
	updated, err := m.when("Last Modified Date", 0, h.LastModifiedDate)
	if err != nil {
		return Hire{}, err
	}
	data := applicantstack.Sanitize(applicantstack.ResourceHire, h.Raw)
	return Hire{
		AccountID:       m.Account,
		HireID:          string(h.Serial),
		CandidateID:     string(h.CandidateSerial),
		FirstName:       string(h.FirstName),
		LastName:        string(h.LastName),
		Email:           string(h.Email),
		JobName:         string(h.JobName),
		Department:      string(h.Department),
		Location:        string(h.Location),
		HireDate:        hired,
		StartDate:       start,
		Stage:           string(h.Stage),
		Manager:         string(h.Manager),
		PayRate:         string(h.PayRate),
		RemoteCreatedAt: created,
		RemoteUpdatedAt: updated,
		RowHash:         RowHash(data),
		RemoteData:      data,
	}, nil
}

// MapAttachment maps one file of a candidate's detail. The row is keyed by
// the serial in the link's path (the signed query changes daily); the
// download fields (ContentType, SizeBytes, SHA256, BlobPath, DownloadedAt)
// are left for the caller that fetches the file.
func (m Mapper) MapAttachment(c applicantstack.Candidate, f applicantstack.File) (Attachment, error) {
	id, err := AttachmentSerial(string(f.URL))
	if err != nil {
		return Attachment{}, err
	}
	kind := AttachmentOther
	if f.IsResume {
		kind = AttachmentResume
	}
	data, err := json.Marshal(attachmentData{bool(f.IsResume), string(f.Name), string(f.URL)})
	if err != nil {
		return Attachment{}, err
	}
	return Attachment{
		AccountID:      m.Account,
		AttachmentID:   id,
		CandidateID:    string(c.Serial),
		FileName:       string(f.Name),
		AttachmentType: kind,
		RemoteData:     applicantstack.Sanitize(applicantstack.ResourceAttachment, data),
	}, nil
}

// attachmentData is an attachment's remote_data: its members in the order
// of their keys, as a map would give them, without sorting a map per file.
type attachmentData struct {
	IsResume bool   `json:"is_resume"`
	Name     string `json:"name"`
	URL      string `json:"url"`
}

// AttachmentSerial returns the file serial of an attachment link such as
// https://acme.applicantstack.com/x/attachment/a6xxxxxxxxxx?apikey=…
// (hire files use /o/x/attachment/). Errors never quote the link, whose
// query is a credential.
func AttachmentSerial(rawURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return "", errors.New("schema: attachment link is not a URL")
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+2 < len(parts); i++ {
		if parts[i] == "x" && parts[i+1] == "attachment" {
			serial := parts[i+2]
			if !isSerial(serial) {
				break
			}
			return serial, nil
		}
	}
	return "", errors.New("schema: attachment link has no /x/attachment/{serial} path")
}

func isSerial(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Reject returns the rejected_records row for a record that failed to map,
// with its payload sanitized.
func (m Mapper) Reject(runID, resource, remoteID string, raw json.RawMessage, reason error) Rejected {
	return Rejected{
		AccountID:  m.Account,
		RunID:      runID,
		Resource:   resource,
		RemoteID:   remoteID,
		Reason:     reason.Error(),
		Payload:    applicantstack.Sanitize(resource, raw),
		RejectedAt: m.now(),
	}
}
