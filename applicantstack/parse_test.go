package applicantstack

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseDisplayTime(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	la, _ := time.LoadLocation("America/Los_Angeles")
	tests := []struct {
		in   string
		loc  *time.Location
		want time.Time
		err  bool
	}{
		// The S3 sample: 04/24/2020 10:30 AM Eastern is 14:30 UTC (EDT).
		{"04/24/2020 10:30 AM", ny, time.Date(2020, 4, 24, 14, 30, 0, 0, time.UTC), false},
		{"01/15/2021 11:59 PM", ny, time.Date(2021, 1, 16, 4, 59, 0, 0, time.UTC), false}, // EST, crosses midnight UTC
		{"01/15/2021 12:00 AM", la, time.Date(2021, 1, 15, 8, 0, 0, 0, time.UTC), false},
		{"01/15/2021 12:00 PM", time.UTC, time.Date(2021, 1, 15, 12, 0, 0, 0, time.UTC), false},
		{"1/5/2021 9:05 am", time.UTC, time.Date(2021, 1, 5, 9, 5, 0, 0, time.UTC), false},
		{" 06/09/2020 ", ny, time.Date(2020, 6, 9, 4, 0, 0, 0, time.UTC), false},
		{"06/09/2020  10:00  AM", ny, time.Date(2020, 6, 9, 14, 0, 0, 0, time.UTC), false},
		{"", ny, time.Time{}, false},
		{"abc", ny, time.Time{}, true},
		{"13/45/2020", ny, time.Time{}, true},
		{"04/24/2020 10:30 AM", nil, time.Date(2020, 4, 24, 10, 30, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDisplayTime(tt.in, tt.loc)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if !got.IsZero() && got.Location() != time.UTC {
				t.Fatalf("location %v, want UTC", got.Location())
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"06/09/2020", "2020-06-09", false},
		{"6/9/2020", "2020-06-09", false},
		{"2020-06-09", "2020-06-09", false},
		{"", "0001-01-01", false},
		{"02/30/2020", "", true},
		{"soon", "", true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseDate(%q) err = %v", tt.in, err)
			continue
		}
		if !tt.err && got.Format("2006-01-02") != tt.want {
			t.Errorf("ParseDate(%q) = %v, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseEventDate(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2018-04-05T13:03:46-04:00", time.Date(2018, 4, 5, 17, 3, 46, 0, time.UTC), false},
		{"2018-04-05T13:03:46Z", time.Date(2018, 4, 5, 13, 3, 46, 0, time.UTC), false},
		{"2018-04-05T13:03:46.250+02:00", time.Date(2018, 4, 5, 11, 3, 46, 250e6, time.UTC), false},
		{"2018-04-05T13:03:46-0400", time.Date(2018, 4, 5, 17, 3, 46, 0, time.UTC), false},
		{"2018-01-05T13:03:46", time.Date(2018, 1, 5, 18, 3, 46, 0, time.UTC), false}, // no offset: account zone
		{"04/05/2018 01:03 PM", time.Date(2018, 4, 5, 17, 3, 0, 0, time.UTC), false},
		{"", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := ParseEventDate(tt.in, ny)
		if (err != nil) != tt.err {
			t.Errorf("ParseEventDate(%q) err = %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseEventDate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseStageChange(t *testing.T) {
	tests := []struct {
		in    string
		want  StageChange
		match bool
	}{
		{"Jane Smith set Stage to Interview", StageChange{"Jane Smith", "Interview"}, true},
		{"Jane Smith set Stage to Do Not Pursue", StageChange{"Jane Smith", "Do Not Pursue"}, true},
		{"Conor O&apos;Brien set Stage to Manager Review", StageChange{"Conor O'Brien", "Manager Review"}, true},
		{"System set Stage to &quot;Offer&quot;", StageChange{"System", "Offer"}, true},
		{"  Zoë Nguyễn set Stage to Hired.  ", StageChange{"Zoë Nguyễn", "Hired"}, true},
		{"set Stage to New", StageChange{"", "New"}, true},
		{"Ann set Stage to Phone Screen &amp; Assessment", StageChange{"Ann", "Phone Screen & Assessment"}, true},
		{"Jane Smith set Rating to Top Prospect", StageChange{}, false},
		{"Application received from Indeed", StageChange{}, false},
		{"Jane set Stage to ", StageChange{}, false},
		{"", StageChange{}, false},
	}
	for _, tt := range tests {
		got, ok := ParseStageChange(tt.in)
		if ok != tt.match || got != tt.want {
			t.Errorf("ParseStageChange(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.match)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 1.5 ", 1500 * time.Millisecond},
		{"0", 0},
		{"-4", 0},
		{"Fri, 27 Nov 2026 10:00:07 GMT", 7 * time.Second},
		{"Fri, 27 Nov 2026 09:59:00 GMT", 0}, // in the past
		{"Friday, 27-Nov-26 10:00:02 GMT", 2 * time.Second},
		{"soon", 0},
		{"999999", 0}, // over a day: ignored, backoff applies
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestText_UnmarshalJSON(t *testing.T) {
	tests := []struct {
		in   string
		want Text
		err  bool
	}{
		{`"Fl "`, "Fl", false},
		{`"O&apos;Brien"`, "O'Brien", false},
		{`45`, "45", false},
		{`4.5`, "4.5", false},
		{`true`, "true", false},
		{`null`, "", false},
		{`""`, "", false},
		{`"José"`, "José", false},
		{`{"a":1}`, "", true},
		{`[1]`, "", true},
	}
	for _, tt := range tests {
		var got Text
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Text(%s) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestEpoch_UnmarshalJSON(t *testing.T) {
	tests := []struct {
		in   string
		want Epoch
		err  bool
	}{
		{`1587738635`, 1587738635, false},
		{`"1587738635"`, 1587738635, false},
		{`""`, 0, false},
		{`null`, 0, false},
		{`1587738635.0`, 1587738635, false},
		{`"abc"`, 0, true},
		{`true`, 0, true},
	}
	for _, tt := range tests {
		var got Epoch
		err := json.Unmarshal([]byte(tt.in), &got)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Epoch(%s) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if got := Epoch(1587738635).Time(); !got.Equal(time.Date(2020, 4, 24, 14, 30, 35, 0, time.UTC)) {
		t.Errorf("Time() = %v", got)
	}
	if !Epoch(0).Time().IsZero() {
		t.Error("Epoch(0).Time() is not zero")
	}
}

func TestFlag_UnmarshalJSON(t *testing.T) {
	for in, want := range map[string]bool{`1`: true, `"1"`: true, `true`: true, `0`: false, `""`: false, `null`: false} {
		var f Flag
		if err := json.Unmarshal([]byte(in), &f); err != nil || bool(f) != want {
			t.Errorf("Flag(%s) = %v, %v; want %v", in, f, err, want)
		}
	}
	var f Flag
	if err := json.Unmarshal([]byte(`"maybe"`), &f); err == nil {
		t.Error("Flag(maybe) did not fail")
	}
}

func TestParseWebhook(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	hire := `{"Object Type":"hire","Event Type":"stagechange","Domain":"acme","Secret":"s3cret",
	"Event Date":"2018-04-05T13:03:46-04:00","Stage":"New","Hire Serial":"e2dm0x1wf77v","User Serial":"","User Type":"SYSTEM"}`
	e, err := ParseWebhook("application/json", []byte(hire), ny)
	if err != nil {
		t.Fatal(err)
	}
	if e.ObjectID() != "e2dm0x1wf77v" || e.Stage != "New" || e.Domain != "acme" || e.UserType != "SYSTEM" {
		t.Errorf("parsed %+v", e)
	}
	if !e.EventDate.Equal(time.Date(2018, 4, 5, 17, 3, 46, 0, time.UTC)) {
		t.Errorf("EventDate = %v", e.EventDate)
	}
	if strings.Contains(string(e.Raw), "s3cret") || strings.Contains(string(e.Raw), "Secret") {
		t.Errorf("Raw keeps the secret: %s", e.Raw)
	}
	if !e.Authentic("s3cret") || e.Authentic("s3cre") || e.Authentic("") {
		t.Error("Authentic is wrong")
	}
	if s := fmtAll(e); strings.Contains(s, "s3cret") {
		t.Errorf("printing the event leaks the secret: %s", s)
	}

	form := "Object+Type=candidate&Event+Type=stagechange&Domain=acme&Secret=x&Event+Date=2024-05-01T13%3A03%3A46-04%3A00&Stage=Interview&Candidate+Serial=a4abcde12345"
	e, err = ParseWebhook("application/x-www-form-urlencoded", []byte(form), ny)
	if err != nil || e.CandidateSerial != "a4abcde12345" || e.Stage != "Interview" {
		t.Errorf("form webhook = %+v, %v", e, err)
	}

	bad := map[string]string{
		"not json":       `hello`,
		"broken json":    `{"Object Type":`,
		"missing stage":  `{"Object Type":"candidate","Event Type":"stagechange","Event Date":"2024-05-01T13:03:46Z","Candidate Serial":"a4"}`,
		"missing serial": `{"Object Type":"candidate","Event Type":"stagechange","Event Date":"2024-05-01T13:03:46Z","Stage":"New"}`,
		"bad date":       `{"Object Type":"candidate","Event Type":"stagechange","Event Date":"later","Stage":"New","Candidate Serial":"a4"}`,
		"unknown object": `{"Object Type":"job","Event Type":"stagechange","Event Date":"2024-05-01T13:03:46Z","Stage":"New"}`,
		"array":          `[]`,
	}
	for name, body := range bad {
		if _, err := ParseWebhook("application/json", []byte(body), ny); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseDisplayTime(f *testing.F) {
	for _, s := range []string{"04/24/2020 10:30 AM", "06/09/2020", "", "1/2/2006 3:04 pm", "99/99/9999 99:99 XM"} {
		f.Add(s)
	}
	ny, _ := time.LoadLocation("America/New_York")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDisplayTime(s, ny)
		if err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
	})
}

func FuzzParseEventDate(f *testing.F) {
	for _, s := range []string{"2018-04-05T13:03:46-04:00", "2018-04-05T13:03:46", "", "04/05/2018 01:03 PM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, err := ParseEventDate(s, time.UTC); err == nil && got.IsZero() && s != "" {
			t.Fatalf("%q parsed to the zero time", s)
		}
	})
}

func FuzzParseStageChange(f *testing.F) {
	for _, s := range []string{"Jane set Stage to Interview", "set Stage to New", "x set Rating to y", "&amp; set Stage to &lt;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, ok := ParseStageChange(s)
		if ok && (sc.Stage == "" || sc.Stage != strings.TrimSpace(sc.Stage)) {
			t.Fatalf("%q: bad stage %q", s, sc.Stage)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add("application/json", []byte(`{"Object Type":"candidate","Event Type":"stagechange","Secret":"x","Event Date":"2024-05-01T13:03:46Z","Stage":"New","Candidate Serial":"a4"}`))
	f.Add("application/x-www-form-urlencoded", []byte("Object+Type=hire&Stage=New"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		e, err := ParseWebhook(ct, body, time.UTC)
		if err == nil && (e.ObjectID() == "" || e.Stage == "" || strings.Contains(string(e.Raw), `"Secret"`)) {
			t.Fatalf("accepted an incomplete event: %+v", e)
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"Candidate Serial":"a4x","Create Date Timestamp":"abc"}`))
	f.Add([]byte(`{"Candidate Serial":"a4x","Score":45,"Notes":[{"text":"a set Stage to b","timestamp":"1"}]}`))
	f.Add([]byte(`{"Hire Serial":"e2","SSN":"900-00-0000"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var c Candidate
		if err := decodeRecord(&c, raw); err == nil && c.Serial == "" {
			t.Fatal("accepted a record without a serial")
		}
		var h Hire
		if err := decodeRecord(&h, raw); err == nil && strings.Contains(strings.ToLower(string(h.Raw)), `"ssn"`) {
			t.Fatalf("hire raw kept SSN: %s", h.Raw)
		}
	})
}
