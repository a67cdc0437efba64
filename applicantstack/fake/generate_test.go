package fake

import (
	"encoding/json"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	serialRE = regexp.MustCompile(`^[a-z][0-9][a-z0-9]{10}$`)
	fileURL  = regexp.MustCompile(`^(http://[^/]+)/x/attachment/(a6[a-z0-9]{10})\?apikey=([0-9a-f]{40})$`)
	ssnRE    = regexp.MustCompile(`^900-\d\d-\d{4}$`)
	dateRE   = regexp.MustCompile(`^\d\d/\d\d/\d{4}$`)
)

type note struct {
	Text      string `json:"text"`
	Type      string `json:"type"`
	Timestamp int64  `json:"timestamp"`
}

type fileRef struct {
	Name          string `json:"name"`
	URL           string `json:"url"`
	IsResume      int    `json:"is_resume"`
	APIKeyExpires int64  `json:"apikey_expires"`
}

type candidateDetail struct {
	Serial      string    `json:"Candidate Serial"`
	JobSerial   string    `json:"Job Serial"`
	JobName     string    `json:"Job Name"`
	First       string    `json:"First Name"`
	Last        string    `json:"Last Name"`
	State       string    `json:"State"`
	Email       string    `json:"Email"`
	Source      string    `json:"Source"`
	Rating      string    `json:"Rating"`
	Disposition string    `json:"Disposition"`
	Stage       string    `json:"Stage"`
	StageType   string    `json:"Stage Type"`
	Score       string    `json:"Score"`
	CreateDate  string    `json:"Create Date"`
	CreateTS    int64     `json:"Create Date Timestamp"`
	Notes       []note    `json:"Notes"`
	Files       []fileRef `json:"Files"`
	Quests      []struct {
		Name  string `json:"Questionnaire Name"`
		Score *int   `json:"Score"`
	} `json:"Questionnaires"`
}

// TestServer_candidateRecords checks every candidate detail of a tenant, as
// served over HTTP, against the rules of real data and the ground truth.
func TestServer_candidateRecords(t *testing.T) {
	cfg, s, srv := serveAcme(t)
	ny, _ := time.LoadLocation(DefaultTimeZone)
	jobs := map[string]map[string]any{}
	for _, j := range decodePage(t, get(t, srv, cfg, "/api/jobs")).Jobs {
		jobs[j["Job Serial"].(string)] = j
	}
	serials, _ := s.Serials("acme", ListCandidates)
	code := serials[0][2:7]
	seen := map[string]int{}
	emails := map[string][]candidateDetail{}
	for _, serial := range serials {
		r := get(t, srv, cfg, "/api/candidate/"+serial)
		var c candidateDetail
		if err := json.Unmarshal(r.body, &c); err != nil {
			t.Fatalf("%s: %v", serial, err)
		}
		truth, err := s.Candidate("acme", serial, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if string(truth.Detail) != string(r.body) {
			t.Fatalf("%s: served detail differs from Candidate().Detail", serial)
		}
		checkCandidate(t, c, truth, jobs, ny, s.Now())
		if !serialRE.MatchString(serial) || serial[2:7] != code {
			t.Errorf("serial %q: bad format or tenant code", serial)
		}
		if strings.HasSuffix(c.State, " ") {
			seen["trailing space state"]++
		}
		if strings.ContainsFunc(c.First+c.Last, func(r rune) bool { return r > 127 }) {
			seen["non-ASCII name"]++
		}
		for _, n := range c.Notes {
			if strings.Contains(n.Text, "&apos;") {
				seen["escaped note"]++
			}
			if strings.Contains(n.Text, " set Rating to ") {
				seen["rating note"]++
			}
		}
		seen["stage type "+c.StageType]++
		seen["source "+c.Source]++
		if len(truth.Files) > 0 {
			seen["files"]++
		}
		emails[strings.ToLower(c.Email)] = append(emails[strings.ToLower(c.Email)], c)
	}
	for _, want := range []string{"trailing space state", "non-ASCII name", "escaped note", "rating note", "stage type ", "stage type Hired", "stage type Do Not Pursue", "source Indeed", "source Referral", "files"} {
		if seen[want] == 0 {
			t.Errorf("no candidate with %s", want)
		}
	}
	repeats := 0
	for email, cs := range emails {
		if len(cs) < 2 {
			continue
		}
		repeats++
		if cs[0].JobSerial == cs[1].JobSerial || cs[0].Last != cs[1].Last {
			t.Errorf("%s applied twice to the same job, or as different people", email)
		}
	}
	if repeats == 0 {
		t.Error("nobody applied twice")
	}
}

// checkCandidate checks one candidate detail.
func checkCandidate(t *testing.T, c candidateDetail, truth CandidateTruth, jobs map[string]map[string]any, loc *time.Location, now time.Time) {
	t.Helper()
	job := jobs[c.JobSerial]
	if job == nil {
		t.Fatalf("%s: unknown job %s", c.Serial, c.JobSerial)
	}
	if want := job["Job Name"].(string) + " [" + job["Job ID"].(string) + "]"; c.JobName != want {
		t.Errorf("%s: Job Name %q, want %q", c.Serial, c.JobName, want)
	}
	if want := time.Unix(c.CreateTS, 0).In(loc).Format("01/02/2006 03:04 PM"); c.CreateDate != want {
		t.Errorf("%s: Create Date %q, timestamp says %q", c.Serial, c.CreateDate, want)
	}
	if c.CreateTS <= int64(job["Create Date Timestamp"].(float64)) {
		t.Errorf("%s: applied before its job was created", c.Serial)
	}
	if len(c.Notes) == 0 || c.Notes[0] != (note{"Application received from " + c.Source, "System", c.CreateTS}) {
		t.Fatalf("%s: first note %+v", c.Serial, c.Notes[:1])
	}
	stage, rating := "New", ""
	var history []StageEvent
	for i, n := range c.Notes {
		if i > 0 && n.Timestamp <= c.Notes[i-1].Timestamp {
			t.Errorf("%s: note %d not after note %d", c.Serial, i, i-1)
		}
		text := html.UnescapeString(n.Text)
		if user, st, ok := strings.Cut(text, " set Stage to "); ok {
			stage = st
			history = append(history, StageEvent{Stage: st, User: user, Time: time.Unix(n.Timestamp, 0)})
		}
		if _, r, ok := strings.Cut(text, " set Rating to "); ok {
			rating = r
		}
	}
	if c.Stage != stage || c.Rating != rating {
		t.Errorf("%s: Stage %q Rating %q, notes say %q %q", c.Serial, c.Stage, c.Rating, stage, rating)
	}
	wantType := map[string]string{"Hired": "Hired", "Do Not Pursue": "Do Not Pursue", "Withdrawn": "Do Not Pursue"}[c.Stage]
	if c.StageType != wantType {
		t.Errorf("%s: Stage Type %q for stage %q", c.Serial, c.StageType, c.Stage)
	}
	if (c.Disposition != "") != (c.StageType == "Do Not Pursue") {
		t.Errorf("%s: Disposition %q with Stage Type %q", c.Serial, c.Disposition, c.StageType)
	}
	if len(truth.History) != len(history)+1 || truth.History[0].Stage != "New" {
		t.Fatalf("%s: truth history %v, notes %v", c.Serial, truth.History, history)
	}
	for i, h := range history {
		got := truth.History[i+1]
		if got.Stage != h.Stage || got.User != h.User || !got.Time.Equal(h.Time) {
			t.Errorf("%s: history[%d] = %+v, notes say %+v", c.Serial, i+1, got, h)
		}
	}
	resumes := 0
	for i, f := range c.Files {
		m := fileURL.FindStringSubmatch(f.URL)
		if m == nil {
			t.Errorf("%s: file url %q", c.Serial, f.URL)
			continue
		}
		resumes += f.IsResume
		tf := truth.Files[i]
		if m[2] != tf.Serial || f.Name != tf.Name || (f.IsResume == 1) != tf.IsResume {
			t.Errorf("%s: file %d %+v, truth %+v", c.Serial, i, f, tf)
		}
		y, mo, d := now.In(loc).Date()
		if want := time.Date(y, mo, d+1, 0, 0, 0, 0, loc).Unix(); f.APIKeyExpires != want {
			t.Errorf("%s: apikey_expires %d, want next midnight %d", c.Serial, f.APIKeyExpires, want)
		}
	}
	if len(c.Files) > 3 || resumes > 1 || len(truth.Files) != len(c.Files) {
		t.Errorf("%s: %d files, %d resumes", c.Serial, len(c.Files), resumes)
	}
	for _, q := range c.Quests {
		if q.Score != nil && strconv.Itoa(*q.Score) != c.Score {
			t.Errorf("%s: questionnaire score %d, Score %q", c.Serial, *q.Score, c.Score)
		}
	}
}

func TestServer_hireRecords(t *testing.T) {
	cfg := testTenant("acme")
	cfg.Candidates = 4000
	s, srv := newTestServer(t, cfg)
	cands := map[string]map[string]any{}
	hired := 0
	for n := 1; n <= 40; n++ {
		for _, c := range decodePage(t, get(t, srv, cfg, "/api/candidates/"+strconv.Itoa(n))).Cands {
			cands[c["Candidate Serial"].(string)] = c
			if c["Stage"] == "Hired" {
				hired++
			}
		}
	}
	serials, _ := s.Serials("acme", ListHires)
	linked, direct := 0, 0
	for _, serial := range serials {
		r := get(t, srv, cfg, "/o/api/hire/"+serial)
		h := decodeObject(t, r.body)
		truth, err := s.Hire("acme", serial)
		if err != nil {
			t.Fatal(err)
		}
		if string(truth.Detail) != string(r.body) {
			t.Fatalf("%s: served detail differs from Hire().Detail", serial)
		}
		if !ssnRE.MatchString(h["SSN"].(string)) || !dateRE.MatchString(h["DOB"].(string)) || !dateRE.MatchString(h["Date of Hire"].(string)) {
			t.Errorf("%s: SSN %v DOB %v Date of Hire %v", serial, h["SSN"], h["DOB"], h["Date of Hire"])
		}
		if sd := h["Start Date"].(string); sd != "" && !dateRE.MatchString(sd) {
			t.Errorf("%s: Start Date %q", serial, sd)
		}
		if h["Stage"] != "New" && !strings.Contains(string(r.body), `"Form Name":"I-9"`) {
			t.Errorf("%s: stage %v without forms", serial, h["Stage"])
		}
		for _, v := range truth.Sensitive {
			if h["Stage"] != "New" && !strings.Contains(string(r.body), v) {
				t.Errorf("%s: sensitive value %q not served", serial, v)
			}
		}
		cs := h["Candidate Serial"].(string)
		if cs != truth.CandidateSerial {
			t.Errorf("%s: Candidate Serial %q, truth %q", serial, cs, truth.CandidateSerial)
		}
		if cs == "" {
			direct++
			continue
		}
		linked++
		c := cands[cs]
		if c == nil || c["Stage"] != "Hired" || !strings.EqualFold(c["Email"].(string), h["Email"].(string)) || c["Last Name"] != h["Last Name"] {
			t.Errorf("hire %s links to %s, which is not the same hired person: %v", serial, cs, c)
		}
	}
	if direct == 0 {
		t.Error("no hire without a candidate")
	}
	if share := float64(linked) / float64(hired); share < 0.35 || share > 0.65 {
		t.Errorf("%d of %d hired candidates have a hire (%.2f), want about half", linked, hired, share)
	}
}

func TestSerials_parse(t *testing.T) {
	s := newSerials(prefixCandidate, "abcde", 42)
	for _, i := range []int{0, 1, 99, 123456, 999999, serialSpace - 1} {
		serial := s.format(i)
		if !serialRE.MatchString(serial) || serial[:7] != "a4abcde" {
			t.Errorf("format(%d) = %q", i, serial)
		}
		if got, err := s.parse(serial); err != nil || got != i {
			t.Errorf("parse(format(%d)) = %d, %v", i, got, err)
		}
	}
	seen := make(map[string]int, 200000)
	for i := range 200000 {
		serial := s.format(i)
		if j, dup := seen[serial]; dup {
			t.Fatalf("indexes %d and %d share serial %s", j, i, serial)
		}
		seen[serial] = i
	}
	for _, bad := range []string{"", "a4abcde", "a2abcde00000", "a4zzzzz00000", "a4abcde0000!", "a4abcde000000"} {
		if _, err := s.parse(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
	if other := newSerials(prefixCandidate, "abcde", 43); other.format(5) == s.format(5) {
		t.Error("different seeds give the same serial")
	}
}

func TestSpread(t *testing.T) {
	const start, span = 100, 47_000_000
	for _, n := range []int{2, 7, 1000, 1_000_000} {
		for _, i := range []int{0, n / 2, n - 2} {
			if i+1 >= n {
				continue
			}
			a, b := spread(start, span, i, n, hash(uint64(i))), spread(start, span, i+1, n, hash(uint64(i+1)))
			if b <= a {
				t.Errorf("n=%d: spread(%d)=%d, spread(%d)=%d: not increasing", n, i, a, i+1, b)
			}
			if a < start || b >= start+span {
				t.Errorf("n=%d: %d or %d out of range", n, a, b)
			}
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, in := range []string{"", "plain", `q"uo\te`, "tab\tnl\ncr\r\x01", "José Nguyễn", "<b>&amp;</b>", "bad \xff byte", "line\u2028sep"} {
		want, _ := json.Marshal(in)
		want = []byte(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(want)))
		if got := appendString(nil, in); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}
