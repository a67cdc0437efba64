package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stackhouse/stackhouse/applicantstack"
)

func eastern(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	return loc
}

// decode unmarshals the JSON s into a T whose field raw keeps s, as the
// client's decoding does.
func decode[T any](t *testing.T, s string, raw func(*T) *json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	*raw(&v) = json.RawMessage(s)
	return v
}

func decodeJob(t *testing.T, s string) applicantstack.Job {
	t.Helper()
	return decode(t, s, func(j *applicantstack.Job) *json.RawMessage { return &j.Raw })
}

func decodeCandidate(t *testing.T, s string) applicantstack.Candidate {
	t.Helper()
	return decode(t, s, func(c *applicantstack.Candidate) *json.RawMessage { return &c.Raw })
}

func decodeHire(t *testing.T, s string) applicantstack.Hire {
	t.Helper()
	return decode(t, s, func(h *applicantstack.Hire) *json.RawMessage { return &h.Raw })
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestMapper_MapJob(t *testing.T) {
	m := Mapper{Account: "acme", Location: eastern(t)}
	t.Run("list row", func(t *testing.T) {
		j := decodeJob(t, `{"Job Serial":"a2dm0x1k5m87","Job ID":"1020","Job Name":"CNA","Stage":"Open","Stage Type":"Open",
			"Location":"Fort Myers, Florida","Department":"Therapy","Job Category":"Service","Job Type":"Non-exempt (hourly)",
			"Campaign Start Date":"06/09/2020","Salary Range":"$27-$30/hour","Create Date":"06/17/2020 11:10 AM",
			"Create Date Timestamp":1592406604,"Last Modified Date":"07/08/2020 11:42 PM","Last Modified Date Timestamp":"1594266120"}`)
		got, err := m.MapJob(j)
		if err != nil {
			t.Fatal(err)
		}
		want := Job{
			AccountID: "acme", JobID: "a2dm0x1k5m87", Code: "1020", Name: "CNA", Status: JobOpen, RemoteStage: "Open",
			Department: "Therapy", Location: "Fort Myers, Florida", Category: "Service", JobType: "Non-exempt (hourly)",
			SalaryRange:     "$27-$30/hour",
			OpenedAt:        utc("2020-06-09T04:00:00Z"), // local midnight, EDT
			RemoteCreatedAt: time.Unix(1592406604, 0).UTC(),
			RemoteUpdatedAt: time.Unix(1594266120, 0).UTC(),
		}
		got.RemoteData, got.RowHash = nil, ""
		if !reflect.DeepEqual(got, want) {
			t.Errorf("MapJob\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("display dates and detail", func(t *testing.T) {
		j := decodeJob(t, `{"Job Serial":"a2x","Stage":"On Hold","Create Date":"06/17/2020 11:10 AM","Last Modified Date":"07/08/2020 11:42 PM","Job Listing":"Do things.\r\n"}`)
		got, err := m.MapJob(j)
		if err != nil {
			t.Fatal(err)
		}
		if !got.RemoteCreatedAt.Equal(utc("2020-06-17T15:10:00Z")) || !got.OpenedAt.Equal(got.RemoteCreatedAt) {
			t.Errorf("created %v opened %v, want 15:10 UTC for both", got.RemoteCreatedAt, got.OpenedAt)
		}
		if !got.RemoteUpdatedAt.Equal(utc("2020-07-09T03:42:00Z")) {
			t.Errorf("updated %v", got.RemoteUpdatedAt)
		}
		if got.Description != "Do things." || got.Status != JobOnHold {
			t.Errorf("description %q status %q", got.Description, got.Status)
		}
	})
}

const candidateDetail = `{"Candidate Serial":"a4dm0x1cbzrh","Job Serial":"a2dm0x1nz03p","Job Name":"CNA [1001]",
	"First Name":"Ann","Last Name":"O&apos;Brien","Email":"  Ann.OBrien@Example.COM ","Phone":"9415550100",
	"City":"Naples","State":"Fl ","Zip":"34102","Source":"Indeed","Rating":"","Disposition":"","Referred By":"",
	"Stage":"Offer","Stage Type":"","Score":"45","Create Date":"04/24/2020 10:30 AM","Create Date Timestamp":1587738635,
	"Notes":[
		{"text":"Application received from Indeed","type":"System","timestamp":1587738635},
		{"text":"Jane Roe set Stage to Interested in Pursuing","type":"System","timestamp":1587800000},
		{"text":"Jane Roe set Stage to Interview.","type":"System","timestamp":1587900000},
		{"text":"Jane Roe set Stage to Interview.","type":"System","timestamp":1587900000},
		{"text":"Jane Roe set Rating to Top Prospect","type":"System","timestamp":1587900001},
		{"text":"set Stage to Offer","type":"System","timestamp":1588000000},
		{"text":"Bob set Stage to Hired","type":"System","timestamp":0}
	],
	"Files":[{"name":"Resume.pdf","url":"https://acme.applicantstack.com/x/attachment/a6dm0x1abcde?apikey=0123456789abcdef0123456789abcdef01234567","is_resume":1,"apikey_expires":1588032000}]}`

func TestMapper_MapCandidate(t *testing.T) {
	m := Mapper{Account: "acme", Location: eastern(t)}
	c := decodeCandidate(t, candidateDetail)
	got, err := m.MapCandidate(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.PersonKey != "ann.obrien@example.com" || got.LastName != "O'Brien" || got.State != "Fl" {
		t.Errorf("person_key %q last_name %q state %q", got.PersonKey, got.LastName, got.State)
	}
	if got.Score == nil || *got.Score != 45 {
		t.Errorf("score = %v, want 45", got.Score)
	}
	if got.FunnelStage != FunnelOffered || got.Stage != "Offer" {
		t.Errorf("funnel %q stage %q", got.FunnelStage, got.Stage)
	}
	if !got.AppliedAt.Equal(utc("2020-04-24T14:30:35Z")) {
		t.Errorf("applied_at %v", got.AppliedAt)
	}
	if strings.Contains(string(got.RemoteData), "apikey=") || !json.Valid(got.RemoteData) {
		t.Errorf("remote_data keeps the link key or is not JSON: %s", got.RemoteData)
	}
	if got.RowHash != RowHash(got.RemoteData) || got.DetailHash != "" {
		t.Errorf("row_hash %q detail_hash %q", got.RowHash, got.DetailHash)
	}

	t.Run("stable hash across link keys", func(t *testing.T) {
		c2 := decodeCandidate(t, strings.Replace(candidateDetail, "apikey=0123", "apikey=9999", 1))
		got2, _ := m.MapCandidate(c2)
		if got2.RowHash != got.RowHash {
			t.Error("a new signed link changed the row hash")
		}
	})
	t.Run("MapCandidateRow: the caller's hash, the same row", func(t *testing.T) {
		row, err := m.MapCandidateRow(c, RowHash(got.RemoteData))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(row, got) {
			t.Errorf("MapCandidateRow = %+v\nMapCandidate    = %+v", row, got)
		}
		if row, _ := m.MapCandidateRow(c, "given"); row.RowHash != "given" {
			t.Errorf("row_hash %q, want the one given", row.RowHash)
		}
		if _, err := m.MapCandidateRow(decodeCandidate(t, `{}`), "h"); !errors.Is(err, ErrNoSerial) {
			t.Errorf("no serial: %v", err)
		}
	})
	t.Run("list row fallbacks", func(t *testing.T) {
		c := decodeCandidate(t, `{"Candidate Serial":"a4x","Email":"","Score":"n/a","Stage":"Secret Stage","Create Date":"04/24/2020 10:30 AM"}`)
		got, err := m.MapCandidate(c)
		if err != nil {
			t.Fatal(err)
		}
		if got.PersonKey != "" || got.Score != nil || got.FunnelStage != "" {
			t.Errorf("person_key %q score %v funnel %q, want empty", got.PersonKey, got.Score, got.FunnelStage)
		}
		if !got.AppliedAt.Equal(utc("2020-04-24T14:30:00Z")) {
			t.Errorf("applied_at %v, want the display date in the account's zone", got.AppliedAt)
		}
	})
	if _, err := m.MapCandidate(decodeCandidate(t, `{}`)); !errors.Is(err, ErrNoSerial) {
		t.Errorf("missing serial error %v is not ErrNoSerial", err)
	}
}

func TestMapper_StageEvents(t *testing.T) {
	m := Mapper{Account: "acme"}
	got := m.StageEvents(decodeCandidate(t, candidateDetail))
	want := []StageEvent{
		{AccountID: "acme", CandidateID: "a4dm0x1cbzrh", JobID: "a2dm0x1nz03p", Stage: "Interested in Pursuing", FunnelStage: FunnelScreened,
			ChangedAt: time.Unix(1587800000, 0).UTC(), ChangedBy: "Jane Roe", Origin: OriginNote},
		{AccountID: "acme", CandidateID: "a4dm0x1cbzrh", JobID: "a2dm0x1nz03p", Stage: "Interview", FunnelStage: FunnelInterviewed,
			ChangedAt: time.Unix(1587900000, 0).UTC(), ChangedBy: "Jane Roe", Origin: OriginNote},
		{AccountID: "acme", CandidateID: "a4dm0x1cbzrh", JobID: "a2dm0x1nz03p", Stage: "Offer", FunnelStage: FunnelOffered,
			ChangedAt: time.Unix(1588000000, 0).UTC(), ChangedBy: "", Origin: OriginNote},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	t.Run("current stage type maps a custom name", func(t *testing.T) {
		c := decodeCandidate(t, `{"Candidate Serial":"a4x","Stage":"Not a Fit","Stage Type":"Do Not Pursue",
			"Notes":[{"text":"A set Stage to Not a Fit","timestamp":100}]}`)
		ev := m.StageEvents(c)
		if len(ev) != 1 || ev[0].FunnelStage != FunnelRejected {
			t.Errorf("events %+v, want one rejected", ev)
		}
	})
}

func TestMapper_MapHire(t *testing.T) {
	m := Mapper{Account: "acme", Location: eastern(t)}
	h := decodeHire(t, `{"Hire Serial":"e2dm0x1wf77v","Candidate Serial":"","First Name":"Ann","Last Name":"Lee",
		"Email":"a@example.com","Start Date":"TBD","Date of Hire":"06/09/2020","Job Name":"CNA","Department":"Care",
		"Location":"Naples, FL","Pay Rate":"14.00","Stage":"Complete","Manager":"Jane Roe",
		"Create Date":"06/01/2020 09:00 AM","Last Modified Date":"06/02/2020 05:00 PM"}`)
	got, err := m.MapHire(h)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HireDate.Equal(utc("2020-06-09T00:00:00Z")) || !got.StartDate.IsZero() {
		t.Errorf("hire_date %v start_date %v; want the calendar date and NULL", got.HireDate, got.StartDate)
	}
	if !got.RemoteCreatedAt.Equal(utc("2020-06-01T13:00:00Z")) || !got.RemoteUpdatedAt.Equal(utc("2020-06-02T21:00:00Z")) {
		t.Errorf("created %v updated %v", got.RemoteCreatedAt, got.RemoteUpdatedAt)
	}
	if got.CandidateID != "" || got.HireID != "e2dm0x1wf77v" || got.PayRate != "14.00" {
		t.Errorf("%+v", got)
	}
	t.Run("sensitive fields never reach remote_data", func(t *testing.T) {
		h := decodeHire(t, `{"Hire Serial":"e2x","SSN":"900-11-2222","DOB":"01/01/1990","Date of Hire":"06/09/2020",
			"Forms":[{"Form Name":"W-4","Questions":[{"Question":"SSN","Value":"900-11-2222"}]}],
			"Questionnaires":[{"Questions":[{"Question":"Bank","Value":"123"}]}]}`)
		got, err := m.MapHire(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"900-", "SSN", "DOB", "Forms", "Questionnaires", "1990"} {
			if strings.Contains(string(got.RemoteData), s) {
				t.Errorf("remote_data holds %q: %s", s, got.RemoteData)
			}
		}
	})
}

// TestMapper_errors: a record a mapper cannot use is refused with an error
// that names the field.
func TestMapper_errors(t *testing.T) {
	m := Mapper{Account: "acme", Location: eastern(t)}
	mapJob := func(t *testing.T, in string) error { _, err := m.MapJob(decodeJob(t, in)); return err }
	mapCandidate := func(t *testing.T, in string) error { _, err := m.MapCandidate(decodeCandidate(t, in)); return err }
	mapHire := func(t *testing.T, in string) error { _, err := m.MapHire(decodeHire(t, in)); return err }
	tests := []struct {
		name      string
		mapRecord func(t *testing.T, in string) error
		in, want  string
	}{
		{"MapJob/no serial", mapJob, `{"Job Name":"x"}`, "Job Serial"},
		{"MapJob/bad create date", mapJob, `{"Job Serial":"a2x","Create Date":"soon"}`, "Create Date"},
		{"MapJob/bad modified date", mapJob, `{"Job Serial":"a2x","Last Modified Date":"13/45/2020"}`, "Last Modified Date"},
		{"MapCandidate/no serial", mapCandidate, `{"First Name":"x"}`, "Candidate Serial"},
		{"MapCandidate/bad date", mapCandidate, `{"Candidate Serial":"a4x","Create Date":"yesterday"}`, "Create Date"},
		{"MapHire/no serial", mapHire, `{"Date of Hire":"06/09/2020"}`, "Hire Serial"},
		{"MapHire/bad hire date", mapHire, `{"Hire Serial":"e2x","Date of Hire":"June"}`, "Date of Hire"},
		{"MapHire/bad create date", mapHire, `{"Hire Serial":"e2x","Create Date":"June"}`, "Create Date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.mapRecord(t, tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

func TestMapper_MapAttachment(t *testing.T) {
	m := Mapper{Account: "acme"}
	c := decodeCandidate(t, candidateDetail)
	got, err := m.MapAttachment(c, c.Files[0])
	if err != nil {
		t.Fatal(err)
	}
	if got.AttachmentID != "a6dm0x1abcde" || got.CandidateID != "a4dm0x1cbzrh" || got.AttachmentType != AttachmentResume || got.FileName != "Resume.pdf" {
		t.Errorf("%+v", got)
	}
	if strings.Contains(string(got.RemoteData), "apikey=") {
		t.Errorf("remote_data keeps the link key: %s", got.RemoteData)
	}
}

// TestMapper_MapAttachment_remoteData: an attachment's remote_data is the
// JSON object a map of its members gives (keys sorted, HTML escaped), as
// before attachmentData: row hashes and stored rows do not change.
func TestMapper_MapAttachment_remoteData(t *testing.T) {
	m := Mapper{Account: "acme"}
	for _, f := range []applicantstack.File{
		{Name: "Résumé <final> & v2.pdf", URL: "https://acme.applicantstack.com/x/attachment/a6abc?apikey=K1", IsResume: true},
		{Name: "", URL: "https://acme.applicantstack.com/x/attachment/a6def?x=1&apikey=K2&y=\"2\""},
	} {
		got, err := m.MapAttachment(applicantstack.Candidate{Serial: "a4x"}, f)
		if err != nil {
			t.Fatal(err)
		}
		old, err := json.Marshal(map[string]any{"name": f.Name, "url": string(f.URL), "is_resume": bool(f.IsResume)})
		if err != nil {
			t.Fatal(err)
		}
		if want := applicantstack.Sanitize(applicantstack.ResourceAttachment, old); string(got.RemoteData) != string(want) {
			t.Errorf("remote_data = %s, want %s", got.RemoteData, want)
		}
	}
}

func TestAttachmentSerial(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://acme.applicantstack.com/x/attachment/a6dm0x1abcde?apikey=0123", "a6dm0x1abcde"},
		{"https://acme.applicantstack.com/o/x/attachment/e3dm0x1abcde", "e3dm0x1abcde"},
		{"http://127.0.0.1:8080/acme/x/attachment/a6abc/?apikey=k", "a6abc"},
		{"https://acme.applicantstack.com/x/attachment/?apikey=0123", ""},
		{"https://acme.applicantstack.com/x/attachment/../etc?apikey=secret", ""},
		{"https://acme.applicantstack.com/files/a6abc?apikey=secret", ""},
		{"::not a url apikey=secret", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := AttachmentSerial(tt.url)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("AttachmentSerial(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error quotes the link: %v", err)
		}
	}
}

func TestMapper_Reject(t *testing.T) {
	now := utc("2024-05-01T12:00:00Z")
	m := Mapper{Account: "acme", Now: func() time.Time { return now }}
	r := m.Reject("run1", "hire", "e2x", json.RawMessage(`{"Hire Serial":"e2x","SSN":"900-11-2222"}`), errors.New("bad date"))
	if r.AccountID != "acme" || r.RunID != "run1" || r.Reason != "bad date" || !r.RejectedAt.Equal(now) {
		t.Errorf("%+v", r)
	}
	if strings.Contains(string(r.Payload), "900-") {
		t.Errorf("payload keeps the SSN: %s", r.Payload)
	}
}

func TestMigrations(t *testing.T) {
	ddl := regexp.MustCompile(`(?m)^\s*(CREATE|ALTER) `)
	ms := Migrations()
	if len(ms) == 0 || ms[0].Version != 1 || ms[0].Name != "init" {
		t.Fatalf("migrations = %+v", ms)
	}
	for i, m := range ms {
		if i > 0 && m.Version <= ms[i-1].Version {
			t.Errorf("migration %d out of order", m.Version)
		}
		// Every migration changes the schema: a statement that creates or
		// alters something (ALTER TABLE … ADD COLUMN keeps a table's rows).
		if !ddl.MatchString(m.SQL) {
			t.Errorf("migration %d has no DDL", m.Version)
		}
	}
	// Every contract table is created by a migration: by 0001, but for
	// stage_stints (0008).
	for _, table := range ContractTables() {
		creates := 0
		for _, m := range ms {
			if strings.Contains(m.SQL, "CREATE TABLE "+table+" (") {
				creates++
			}
		}
		if creates != 1 {
			t.Errorf("%d migrations create %s", creates, table)
		}
	}
	bad := []string{"init.sql", "0001.sql", "x_init.sql", "0000_init.sql", "0001_init.txt"}
	for _, name := range bad {
		if _, err := parseMigrationName(name); err == nil {
			t.Errorf("parseMigrationName(%q) accepted a bad name", name)
		}
	}
}
