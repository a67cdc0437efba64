package applicantstack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/stackhouse/stackhouse/applicantstack/fake"
	"github.com/stackhouse/stackhouse/applicantstack/fake/faketest"
)

// candidateCases are answers decodeCandidate must decode as json.Unmarshal
// does, or decline: every kind of value for every kind of field, keys
// repeated, keys that match only by case, escapes, nulls, bad JSON.
var candidateCases = []string{
	`{"Method Result":"Success","Candidate Serial":"a4x","Stage":"New","Score":35,"Rating":true,"Create Date Timestamp":"1748570019",
		"Notes":[{"text":"Ann set Stage to Phone Screen","type":"Stage","timestamp":1748570100}],
		"Files":[{"name":"r.pdf","url":"https://x/a6?apikey=K","is_resume":"1","apikey_expires":1748600000}],
		"Questionnaires":[{"Questionnaire Name":"Q","Score":"7","Questions":[{"Question":"Why?","Value":"<b>x</b> &amp; y"}]}],
		"Address 1":" 1 Main St ","City":"Portland","Job Submissions":[{"a":[1,{"b":"]}"}]}],"extra":null}`,
	` { "Candidate Serial" : "a1" , "Notes" : [ ] , "Files" : null , "Questionnaires" : [ { } ] } `,
	`{"Candidate Serial":"a1","Stage":"New","Stage":null,"Notes":[{"text":"x"}],"Notes":[]}`,
	`{"Candidate Serial":"a1","Method Result":null,"NumPages":"3","Error":"oops","TotalCount":null}`,
	`{"Candidate Serial":"a\"1","First Name":"Jos\u00e9","Last Name":"\ud83d\ude00","Email":"a\/b"}`,
	`{"Candidate Serial":"a1","First Name":"Jos` + "\xff" + `"}`,
	`{"candidate serial":"a1"}`,
	`{"Candidate Serial":"a1","STAGE":"x"}`,
	`{"Candidate Serial":"a1","notes":[]}`,
	`{"Candidate Serial":"a1","Candidate\u0020Serial":"a2"}`,
	`{"Candidate Serial":"a1","Stage":{"a":1}}`,
	`{"Candidate Serial":"a1","Stage":[1]}`,
	`{"Candidate Serial":"a1","Notes":{"text":"x"}}`,
	`{"Candidate Serial":"a1","Notes":["x"]}`,
	`{"Candidate Serial":"a1","Notes":[null]}`,
	`{"Candidate Serial":"a1","Notes":[{"timestamp":"soon"}]}`,
	`{"Candidate Serial":"a1","Files":[{"is_resume":"maybe"}]}`,
	`{"Candidate Serial":"a1","Create Date Timestamp":1.5e3}`,
	`{"Candidate Serial":"a1","Candidates":[{"a":1}]}`,
	`{"Candidate Serial":"a1","Jobs":null}`,
	`{"Candidate Serial":"a1","Kandidate":"x","ſtage":"y"}`,
	`{"Candidate Serial":"a1"`,
	`{"Candidate Serial":"a1"} x`,
	`{"Candidate Serial":"a1",}`,
	`["Candidate Serial"]`,
	`null`,
	`"x"`,
	``,
	`{}`,
	`{"Raw":"x","clean":"y","Address":{"City":"z"}}`,
}

// checkCandidate holds decodeCandidate to json.Unmarshal for b, with the
// envelope and without it.
func checkCandidate(t *testing.T, b []byte) (fast bool) {
	t.Helper()
	var c, want Candidate
	var env, wantEnv envelope
	if decodeCandidate(b, &c, &env) {
		fast = true
		if err := json.Unmarshal(b, want.withEnvelope(&wantEnv)); err != nil {
			t.Errorf("decodeCandidate took %q, json.Unmarshal refuses it: %v", b, err)
		} else if !reflect.DeepEqual(c, want) || !reflect.DeepEqual(env, wantEnv) {
			t.Errorf("decodeCandidate(%q) =\n%+v %+v, json.Unmarshal gives\n%+v %+v", b, c, env, want, wantEnv)
		}
	}
	c, want = Candidate{}, Candidate{}
	if decodeCandidate(b, &c, nil) {
		if err := json.Unmarshal(b, &want); err != nil {
			t.Errorf("decodeCandidate took the row %q, json.Unmarshal refuses it: %v", b, err)
		} else if !reflect.DeepEqual(c, want) {
			t.Errorf("decodeCandidate(row %q) =\n%+v, json.Unmarshal gives\n%+v", b, c, want)
		}
	}
	return fast
}

func TestDecodeCandidate(t *testing.T) {
	fast := 0
	for _, b := range candidateCases {
		if checkCandidate(t, []byte(b)) {
			fast++
		}
	}
	// The declined cases fall back; the plain ones must not.
	if fast < 6 {
		t.Errorf("decodeCandidate took %d of the cases, want the plain ones", fast)
	}
	for _, b := range []string{candidateCases[0], candidateCases[1], candidateCases[4]} {
		var c Candidate
		if !decodeCandidate([]byte(b), &c, &envelope{}) {
			t.Errorf("decodeCandidate declined %s", b)
		}
	}
}

// TestDecodeCandidate_fake: every detail and list row the fake serves is
// decoded without encoding/json (else the fast path is lost) and as
// json.Unmarshal decodes it.
func TestDecodeCandidate_fake(t *testing.T) {
	for _, b := range fakeCandidateBodies(t, 300) {
		if !checkCandidate(t, b) {
			t.Fatalf("decodeCandidate declined the fake's %s", b)
		}
	}
}

// fakeCandidateBodies returns the first n candidates' list rows and
// details as the fake serves them.
func fakeCandidateBodies(t testing.TB, n int) [][]byte {
	ten := fake.NewTenant("acme")
	ten.Jobs, ten.Candidates = 12, n
	_, base := faketest.Serve(t, ten)
	get := func(path string) []byte {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Token", ten.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}
	var out [][]byte
	for p := 1; p <= (n+PageSize-1)/PageSize; p++ {
		var env envelope
		if err := json.Unmarshal(get(fmt.Sprintf("/api/candidates/%d", p)), &env); err != nil {
			t.Fatal(err)
		}
		for _, row := range env.Candidates {
			var c struct {
				Serial string `json:"Candidate Serial"`
			}
			if err := json.Unmarshal(row, &c); err != nil {
				t.Fatal(err)
			}
			out = append(out, row, get("/api/candidate/"+c.Serial))
		}
	}
	return out
}

func FuzzDecodeCandidate(f *testing.F) {
	for _, c := range candidateCases {
		f.Add([]byte(c))
	}
	for _, b := range fakeCandidateBodies(f, 4) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkCandidate(t, b) })
}

// BenchmarkDecodeCandidate decodes the fake's candidate details with
// decodeCandidate and with json.Unmarshal.
func BenchmarkDecodeCandidate(b *testing.B) {
	var details [][]byte
	bodies := fakeCandidateBodies(b, 100)
	for i := 1; i < len(bodies); i += 2 {
		details = append(details, bodies[i])
	}
	size := 0
	for _, d := range details {
		size += len(d)
	}
	for _, v := range []struct {
		name   string
		decode func([]byte, *Candidate, *envelope) error
	}{
		{"decodeCandidate", func(d []byte, c *Candidate, env *envelope) error { return unmarshalRecord(d, c, env) }},
		{"json.Unmarshal", func(d []byte, c *Candidate, env *envelope) error { return json.Unmarshal(d, c.withEnvelope(env)) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(size / len(details)))
			i := 0
			for b.Loop() {
				var c Candidate
				var env envelope
				if err := v.decode(details[i%len(details)], &c, &env); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
