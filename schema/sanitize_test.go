package schema

import (
	"bytes"
	"encoding/json"
	"regexp"
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
	if err := json.Unmarshal(out, &v); err != nil {
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
			if string(got) != tt.want && RowHash(got) != RowHash(json.RawMessage(tt.want)) {
				t.Errorf("Sanitize(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			if l := leaks(t, tt.resource, got); len(l) > 0 {
				t.Errorf("leaked: %v", l)
			}
		})
	}
}

func TestRowHash(t *testing.T) {
	base := RowHash(json.RawMessage(`{"a":1,"b":{"c":[1,2,{"d":"x","e":null}]},"f":"g h"}`))
	if len(base) != 16 {
		t.Fatalf("RowHash length = %d, want 16", len(base))
	}
	same := []string{
		`{"b":{"c":[1,2,{"e":null,"d":"x"}]},"f":"g h","a":1}`,
		"{\n  \"a\": 1,\n  \"b\": { \"c\": [ 1, 2, { \"d\": \"x\", \"e\": null } ] },\n  \"f\": \"g h\"\n}\n",
		` {"f":"g h","a":1,"b":{"c":[1,2,{"d":"x","e":null}]}}`,
	}
	for _, s := range same {
		if got := RowHash(json.RawMessage(s)); got != base {
			t.Errorf("RowHash(%s) = %s, want %s (order and whitespace must not matter)", s, got, base)
		}
	}
	different := []string{
		`{"a":2,"b":{"c":[1,2,{"d":"x","e":null}]},"f":"g h"}`,
		`{"a":1,"b":{"c":[2,1,{"d":"x","e":null}]},"f":"g h"}`, // array order matters
		`{"a":1,"b":{"c":[1,2,{"d":"x","e":null}]},"f":"gh"}`,  // space inside a string matters
		`{"a":1,"b":{"c":[1,2,{"d":"x","e":""}]},"f":"g h"}`,
		`{"a":1,"b":{"c":[1,2,{"d":"x"}]},"f":"g h"}`,
		`{"a":"1","b":{"c":[1,2,{"d":"x","e":null}]},"f":"g h"}`,
	}
	for _, s := range different {
		if got := RowHash(json.RawMessage(s)); got == base {
			t.Errorf("RowHash(%s) = base hash; a changed value must change it", s)
		}
	}
	if RowHash(nil) != "" {
		t.Error("RowHash(nil) is not empty")
	}
	if RowHash(json.RawMessage(`{"a":`)) == "" || RowHash(json.RawMessage(`{"a":`)) == RowHash(json.RawMessage(`{"a":}`)) {
		t.Error("invalid JSON must still hash, by its bytes")
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":[true,false,null,-1.5e3,"x\"y"]}`, `{"a":[true,false,null,-1.5e3,"x\"y"],"b":1}`},
		{` [ ] `, `[]`},
		{`{ }`, `{}`},
		{`{"a":1,"a":0}`, `{"a":0,"a":1}`},
	}
	for _, tt := range tests {
		got, err := canonicalJSON([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("canonicalJSON(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`{`, `[1,]`, `{"a"}`, `{"a":1,}`, `tru`, `"x`, `{"a":1}x`, `[1 2]`, `{,}`} {
		if _, err := canonicalJSON([]byte(bad)); err == nil {
			t.Errorf("canonicalJSON(%s) succeeded, want an error", bad)
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

func FuzzRowHash(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[1,{"c":null}]}`, `[]`, `"x"`, `{"a":`, `  `, `{"a":"\"}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h := RowHash(in)
		if h != RowHash(in) {
			t.Fatal("not deterministic")
		}
		if !json.Valid(in) {
			return
		}
		if _, err := canonicalJSON(bytes.TrimSpace(in)); err != nil {
			t.Fatalf("canonicalJSON rejects valid JSON %q: %v", in, err)
		}
		var indented bytes.Buffer
		if err := json.Indent(&indented, in, "", "  "); err != nil {
			t.Fatal(err)
		}
		if RowHash(indented.Bytes()) != h {
			t.Fatalf("whitespace changed the hash of %q", in)
		}
	})
}

const listRow = `{"Candidate Serial":"a4dm0x1cbzrh","Job Serial":"a2dm0x1nz03p","Job Name":"CNA or HHA [1001]",
	"First Name":"Ann","Last Name":"Lee","Address 1":"1 Main St","Address 2":"","City":"Naples","State":"Fl ",
	"Zip":"34102","Phone":"9415550100","Email":"ann@example.com","Source":"Indeed","Rating":"","Disposition":"",
	"Referred By":"","Stage":"Interview","Stage Type":"","Score":"45","Create Date":"04/24/2020 10:30 AM",
	"Create Date Timestamp":1587738635}`

func BenchmarkRowHash(b *testing.B) {
	raw := json.RawMessage(listRow)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		RowHash(raw)
	}
}

func BenchmarkSanitize(b *testing.B) {
	raw := json.RawMessage(listRow)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Sanitize("candidate", raw)
	}
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
		want := apikeyParam.ReplaceAllStringFunc(in, func(m string) string {
			if sub := apikeyParam.FindStringSubmatch(m); sub[2] != "" {
				return sub[1]
			}
			return ""
		})
		got, _ := cutAPIKeys([]byte(in))
		if string(got) != want {
			t.Errorf("cutAPIKeys(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

func FuzzCutAPIKeys(f *testing.F) {
	f.Add(`{"url":"https://a/x?apikey=k&v=2&amp;apikey=z"}`)
	f.Fuzz(func(t *testing.T, in string) {
		want := apikeyParam.ReplaceAllStringFunc(in, func(m string) string {
			if sub := apikeyParam.FindStringSubmatch(m); sub[2] != "" {
				return sub[1]
			}
			return ""
		})
		if got, _ := cutAPIKeys([]byte(in)); string(got) != want {
			t.Fatalf("cutAPIKeys(%q) = %q, regexp gives %q", in, got, want)
		}
	})
}
