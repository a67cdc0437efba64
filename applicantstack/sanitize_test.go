package applicantstack

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var apikeyLeft = regexp.MustCompile(`(?i)[?&]apikey=`)

// leaks reports the sensitive keys and SSN-shaped values left in a sanitized
// record, at any depth.
func leaks(t testing.TB, resource string, out []byte) []string {
	t.Helper()
	if out == nil {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber() // a number float64 cannot hold is still JSON
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("output is not JSON: %v: %s", err, out)
	}
	r := sanitizeRules(resource)
	var found []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if r.dropKey(k) {
					found = append(found, "key "+k)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if ssnShape.MatchString(v) {
				found = append(found, "ssn value "+v)
			}
			if apikeyLeft.MatchString(v) {
				found = append(found, "apikey in "+v)
			}
		}
	}
	walk(v)
	return found
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		in       string
		want     string // exact output; "" means nil
	}{
		{"clean record is returned as is", "candidate",
			`{"Candidate Serial": "a4x", "Stage": "New"}`,
			`{"Candidate Serial": "a4x", "Stage": "New"}`},
		{"top-level SSN and DOB", "hire",
			`{"Hire Serial":"e2x","SSN":"900-12-3456","DOB":"01/02/1990","Stage":"New"}`,
			`{"Hire Serial":"e2x","Stage":"New"}`},
		{"nested at any depth and any case", "hire",
			`{"a":[{"b":{"ssn":"x","Date of Birth":"y","Social Security Number":"z","keep":1}}]}`,
			`{"a":[{"b":{"keep":1}}]}`},
		{"forms everywhere", "candidate",
			`{"Forms":[{"Form Name":"W-4"}],"x":{"Forms":1}}`,
			`{"x":{}}`},
		{"hire questionnaires", "hires",
			`{"Hire Serial":"e2x","Questionnaires":[{"Questions":[]}]}`,
			`{"Hire Serial":"e2x"}`},
		{"candidate questionnaires kept, sensitive answers dropped", "candidate",
			`{"Questionnaires":[{"Questions":[{"Question":"Your SSN?","Value":"123456789"},{"Question":"Why us?","Value":"<b>fun</b> & games"}]}]}`,
			`{"Questionnaires":[{"Questions":[{"Question":"Your SSN?"},{"Question":"Why us?","Value":"<b>fun</b> & games"}]}]}`},
		{"ssn-shaped value masked", "candidate",
			`{"Notes":[{"text":"ssn is 900-12-3456 ok"}]}`,
			`{"Notes":[{"text":"ssn is XXX-XX-XXXX ok"}]}`},
		{"apikey stripped from files", "candidate",
			`{"Files":[{"name":"r.pdf","url":"https://acme.applicantstack.com/x/attachment/a6abc?apikey=0123456789abcdef","is_resume":1}]}`,
			`{"Files":[{"is_resume":1,"name":"r.pdf","url":"https://acme.applicantstack.com/x/attachment/a6abc"}]}`},
		{"apikey between parameters", "candidate",
			`{"u":"https://h/x/attachment/a6?x=1&apikey=K&y=2","v":"https://h/p?apikey=K&y=2","h":"<a href=\"/x/attachment/a6?a=1&amp;apikey=K\">f</a>"}`,
			`{"h":"<a href=\"/x/attachment/a6?a=1\">f</a>","u":"https://h/x/attachment/a6?x=1&y=2","v":"https://h/p?y=2"}`},
		{"punctuated keys", "candidate",
			`{"S.S.N.":"x","D-O-B":"y","ok":1}`,
			`{"ok":1}`},
		{"escaped key is still found", "hire",
			`{"\u0053SN":"1","ok":true}`,
			`{"ok":true}`},
		{"numbers keep their form", "hire",
			`{"SSN":"1","n":1.50,"big":12345678901234567890}`,
			`{"big":12345678901234567890,"n":1.50}`},
		{"webhook secret", "webhook",
			`{"Secret":"s3cret","Stage":"New"}`,
			`{"Stage":"New"}`},
		{"birthday and birthdate", "candidate",
			`{"Birthday":"1/1/1990","Birth-Date":"x","ok":1}`,
			`{"ok":1}`},
		{"secret kept elsewhere", "candidate",
			`{"Secret":"x"}`,
			`{"Secret":"x"}`},
		{"invalid JSON is dropped", "hire", `{"SSN":"900-12-3456"`, ""},
		{"trailing data is dropped", "hire", `{"a":1} {"SSN":"900-12-3456"}`, ""},
		{"empty", "job", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.resource, json.RawMessage(tt.in))
			if string(got) != tt.want && !sameJSON(got, tt.want) {
				t.Errorf("Sanitize(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if l := leaks(t, tt.resource, got); len(l) > 0 {
				t.Errorf("leaked: %v", l)
			}
		})
	}
}

// TestSanitize_records: what the client keeps of hire and candidate records.
func TestSanitize_records(t *testing.T) {
	in := `{"Hire Serial":"e2x","SSN":"900-12-3456","dob":"01/01/1990","Forms":[{"Form Name":"W-4"}],
	"Questionnaires":[{"Questions":[{"Question":"Bank","Value":"123"}]}],
	"Nested":{"Date of Birth":"x","ok":[{"SSN":"900-00-0000","keep":1}]},"Stage":"New"}`
	out := string(Sanitize(ResourceHire, json.RawMessage(in)))
	for _, bad := range []string{"900-", "1990", "W-4", "Bank", "Date of Birth", "SSN", "Forms"} {
		if strings.Contains(out, bad) {
			t.Errorf("Sanitize kept %q: %s", bad, out)
		}
	}
	for _, good := range []string{`"Hire Serial":"e2x"`, `"Stage":"New"`, `"keep":1`} {
		if !strings.Contains(out, good) {
			t.Errorf("Sanitize dropped %s: %s", good, out)
		}
	}
	cand := string(Sanitize(ResourceCandidate, json.RawMessage(`{"Candidate Serial":"a4x","DOB":"1/1/1990","Questionnaires":[{"Score":5}]}`)))
	if strings.Contains(cand, "1990") || !strings.Contains(cand, "Questionnaires") {
		t.Errorf("Sanitize(candidate) = %s", cand)
	}
	plain := json.RawMessage(`{"Candidate Serial": "a4x"}`)
	if got := Sanitize(ResourceCandidate, plain); string(got) != string(plain) {
		t.Errorf("record without sensitive keys was rewritten: %s", got)
	}
	if got := Sanitize(ResourceHire, json.RawMessage(`{"SSN":`)); got != nil {
		t.Errorf("broken JSON with a sensitive key = %s, want nil", got)
	}
}

// sameJSON reports whether got and want hold the same JSON value.
func sameJSON(got []byte, want string) bool {
	var a, b any
	return json.Unmarshal(got, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && reflect.DeepEqual(a, b)
}

// TestSanitize_keepsCleanBytes: a record with nothing to remove comes back
// byte for byte, even when a word or an escape sent it down the slow path,
// so that its row hash does not depend on how the API escapes strings.
func TestSanitize_keepsCleanBytes(t *testing.T) {
	for _, in := range []string{
		`{"Source": "Social Media", "Name": "Ren\u00e9e"}`,
		`{"Job Name":"R\u0026D \/ Lab","Stage":"Offer <b>"}`,
		`{"Notes":[{"text":"birthday party on 04/01"}],"Forms Done":"no"}`,
	} {
		if got := Sanitize(ResourceCandidate, json.RawMessage(in)); string(got) != in {
			t.Errorf("Sanitize(%s) = %s, want the input unchanged", in, got)
		}
	}
}

func TestHasSSNShape(t *testing.T) {
	for _, s := range []string{"900-12-3456", "x 900-12-3456.", "\"900-12-3456\"", "a-900-12-3456-b",
		"900-12-345", "9900-12-3456", "900-12-34567", "941-555-0100", "12345-6789", "2020-01-02", "a900-12-3456", "", "---"} {
		if got, want := hasSSNShape([]byte(s)), ssnShape.MatchString(s); got != want {
			t.Errorf("hasSSNShape(%q) = %v, regexp says %v", s, got, want)
		}
	}
	// A slice cut short of an SSN in its backing array: only its length
	// counts.
	if b := []byte("abcde 900-12-3456")[:15]; hasSSNShape(b) {
		t.Errorf("hasSSNShape(%q) read past the slice's end", b)
	}
}

func FuzzHasSSNShape(f *testing.F) {
	for _, s := range []string{"900-12-3456", "a900-12-3456", "x 900-12-3456_", "900-12-3456-12-3456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := hasSSNShape([]byte(s)), ssnShape.MatchString(s); got != want {
			t.Fatalf("hasSSNShape(%q) = %v, regexp says %v", s, got, want)
		}
	})
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		`{"SSN":"900-12-3456","DOB":"1/1/1990","Forms":[{"Questions":[{"Question":"SSN","Value":"x"}]}]}`,
		`{"Files":[{"url":"https://a/x/attachment/a6x?apikey=abc&z=1"}]}`,
		`[{"a":{"\u0053SN":1}}]`, `"900-12-3456"`, `null`, `{"a":`, ``, `{"S.S.N":1,"d o b":2}`,
	} {
		f.Add("hire", []byte(s))
		f.Add("candidate", []byte(s))
	}
	f.Fuzz(func(t *testing.T, resource string, in []byte) {
		out := Sanitize(resource, in)
		if out == nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON: %q", out)
		}
		if l := leaks(t, resource, out); len(l) > 0 {
			t.Fatalf("leaked %v from %q", l, in)
		}
		if again := Sanitize(resource, out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
	})
}

// BenchmarkSanitize measures the fast path every clean list row takes: on
// any input, and on a row the client has just decoded (no validity check).
func BenchmarkSanitize(b *testing.B) {
	raw := json.RawMessage(`{"Candidate Serial":"a4dm0x1cbzrh","Job Serial":"a2dm0x1nz03p","Job Name":"CNA or HHA [1001]",
	"First Name":"Ann","Last Name":"Lee","City":"Naples","State":"Fl ","Zip":"34102","Phone":"9415550100",
	"Email":"ann@example.com","Source":"Indeed","Stage":"Interview","Score":"45","Create Date":"04/24/2020 10:30 AM"}`)
	b.Run("any input", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			Sanitize(ResourceCandidate, raw)
		}
	})
	b.Run("decoded by the client", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			sanitize(ResourceCandidate, raw, true)
		}
	})
}

func TestCutAPIKeys(t *testing.T) {
	tests := []string{
		`{"url":"https://a.applicantstack.com/x/attachment/a6x?apikey=0123abcd","apikey_expires":1}`,
		`{"url":"https://a/x/attachment/a6x?apikey=k&v=2"}`,
		`{"url":"https://a/x/attachment/a6x?v=2&apikey=k"}`,
		`{"html":"<a href=\"https://a/x?apikey=k&amp;v=1\">f</a>"}`,
		`{"html":"<a href='https://a/x?v=1&amp;APIKEY=k'>f</a>"}`,
		`{"a":"?apikey=1","b":"&apikey=2&c=3","c":"noapikey=3"}`,
		`{"none":"here"}`,
	}
	for _, in := range tests {
		want := regexpCut(in)
		got, _ := cutAPIKeys([]byte(in))
		if string(got) != want {
			t.Errorf("cutAPIKeys(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

// regexpCut is what cutAPIKeys must match: apikeyParam's cut.
func regexpCut(in string) string {
	return apikeyParam.ReplaceAllStringFunc(in, func(m string) string {
		if sub := apikeyParam.FindStringSubmatch(m); sub[2] != "" {
			return sub[1] // "?apikey=k&x=1" keeps "?x=1"
		}
		return ""
	})
}

func FuzzCutAPIKeys(f *testing.F) {
	f.Add(`{"url":"https://a/x?apikey=k&v=2&amp;apikey=z"}`)
	f.Add(`{"u":"a?apikey=k\\","v":"b?apikey=\u0022"}`)
	f.Fuzz(func(t *testing.T, in string) {
		want := regexpCut(in)
		got, escaped := cutAPIKeys([]byte(in))
		if string(got) != want {
			t.Fatalf("cutAPIKeys(%q) = %q, regexp gives %q", in, got, want)
		}
		// sanitize keeps a cut without a backslash unchecked.
		if json.Valid([]byte(in)) && !escaped && !json.Valid(got) {
			t.Fatalf("cutAPIKeys(%q) = %q: valid JSON made invalid by a cut without a backslash", in, got)
		}
	})
}

// containsNormalized is the definition wordSet.in implements in one pass:
// normalize, then look for each word.
func containsNormalized(raw []byte, words []string) bool {
	lower := normalize(raw)
	for _, w := range words {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return false
}

func TestWordSet_in(t *testing.T) {
	cases := []string{
		``, `{}`, `{"SSN":"x"}`, `{"S.S.N":1}`, `{"Date of Birth":""}`, `{"note":"s s n"}`,
		`{"Questionnaires":[]}`, `{"a":"questionnaire"}`, `{"x":"apikey_expires"}`, `{"Secret":"x"}`,
		`{"City":"Dobson"}`, `{"Name":"Bob"}`, `{"k":"ſsn"}`, `{"k":"ＳＳＮ"}`, `{"k":"\u0053SN"}`,
		`{"k":"birt","h":1}`, `{"k":"quest","ionnaires":1}`, `{"k":"xxxxxxxxxxxxxxxxxxxxquestionnaires"}`,
		"{\"k\":\"s\xffsn\"}", `{"k":"ss"}`, `{"Platforms":"x"}`, `{"k":"Sociable"}`,
	}
	for _, c := range cases {
		for h := range 2 {
			for w := range 2 {
				for l := range 2 {
					s := wordSets[h][w][l]
					if got, want := s.in([]byte(c)), containsNormalized([]byte(c), s.words); got != want {
						t.Errorf("%q with %v: in = %v, normalize+Contains = %v", c, s.words, got, want)
					}
				}
			}
		}
	}
	// The sets hold what suspect has always looked for.
	if got := wordSets[1][1][1].words; !slices.Equal(got, []string{"ssn", "dob", "forms", "social", "birth", "questionnaires", "secret", "apikey"}) {
		t.Errorf("all words = %v", got)
	}
	if got := wordSets[0][0][0].words; !slices.Equal(got, []string{"ssn", "dob", "forms", "social", "birth"}) {
		t.Errorf("base words = %v", got)
	}
}

func FuzzWordSet_in(f *testing.F) {
	for _, s := range []string{`{"SSN":"1"}`, `{"x":"quest.ionnaires"}`, "s\u017fn", `apikey`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := wordSets[1][1][1]
		if got, want := s.in(raw), containsNormalized(raw, s.words); got != want {
			t.Errorf("%q: in = %v, normalize+Contains = %v", raw, got, want)
		}
	})
}
