package applicantstack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// envelopeCases are bodies decodeEnvelope must decode exactly as
// json.Unmarshal does, errors included.
var envelopeCases = []string{
	`{"Method Result":"Success","NumPages":3,"TotalCount":"250","Candidates":[{"Candidate Serial":"a1"},{"Candidate Serial":"a\"2"}]}`,
	` { "Method Result" : "Success" , "Jobs" : [ {"a": [1, {"b": "]}"}]} , 2 , "x" , null , true ] } `,
	`{"Method Result":"Success","Hires":[]}`,
	`{"Method Result":"Success","Candidates":null}`,
	`{"Method Result":"Success","Candidates":{"a":1}}`,
	`{"Method Result":"Success","Candidates":"x"}`,
	`{"Method Result":"Success","candidates":[{"a":1}]}`,
	`{"Method Result":"Success","CANDIDATES":[1],"Candidates":[2]}`,
	`{"Method Result":"Success","Candidates":[1],"Candidates":[2,3]}`,
	`{"Method Result":"Success","Cand\u0069dates":[1]}`,
	`{"Method Result":"Success","NumPages":{"x":1},"Candidates":[1]}`,
	`{"Method Result":"Error","Error":"Invalid token"}`,
	`{"Method Result":"Success","Other":{"Candidates":[9]},"Jobs":[{"Job Serial":"j"}],"Hires":[{"Hire Serial":"h"}]}`,
	`{"Method Result":"Success","Candidates":[{"a":"\\"},"\\\"",-1.5e3]}`,
	`{"Method Result":"Success","Candidates":[{"a":1}`,
	`{"Method Result":"Succ`,
	``, `null`, `[]`, `[[1],[2]]`, `[[`, `"x"`, `{}`, `{ }`, `{"Method Result":1}`, `{"NumPages":"1","NumPages":"2"}`,
	`{"Method Result":"Success","Jobs":[1]} x`,
}

func TestDecodeEnvelope(t *testing.T) {
	for _, c := range envelopeCases {
		checkEnvelope(t, []byte(c))
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	for _, c := range envelopeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkEnvelope(t, body) })
}

func checkEnvelope(t *testing.T, body []byte) {
	t.Helper()
	var want, got envelope
	werr := json.Unmarshal(body, &want)
	gerr := decodeEnvelope(body, &got)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || reflect.TypeOf(gerr) != reflect.TypeOf(werr) {
		t.Fatalf("%q: error %v, json.Unmarshal's %v", body, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decoded %+v, json.Unmarshal gives %+v", body, got, want)
	}
}

// BenchmarkDecodeEnvelope compares decodeEnvelope with the json.Unmarshal
// it replaces on a list page of 100 rows.
func BenchmarkDecodeEnvelope(b *testing.B) {
	page := listPageBody(100)
	for _, d := range []struct {
		name   string
		decode func([]byte, *envelope) error
	}{
		{"decodeEnvelope", decodeEnvelope},
		{"json.Unmarshal", func(b []byte, env *envelope) error { return json.Unmarshal(b, env) }},
	} {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				var env envelope
				if err := d.decode(page, &env); err != nil || len(env.Candidates) != 100 {
					b.Fatal(err)
				}
			}
		})
	}
}

// listPageBody is a candidate list page of n rows shaped like the fake's.
func listPageBody(n int) []byte {
	type row map[string]any
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{"Candidate Serial": fmt.Sprintf("a4k3k06z%04d", i), "Job Serial": "a2k3k06f17q1",
			"Job Name": "Benefits Administrator [1074]", "First Name": "Carol", "Last Name": "Núñez",
			"Address 1": "4366 Cedar Ln", "Address 2": "", "City": "Portland", "State": "OR", "Zip": "97267",
			"Phone": "5035550147", "Email": "carol.nunez0@mail.example.com", "Source": "Indeed", "Rating": "",
			"Disposition": "", "Referred By": "", "Stage": "New", "Stage Type": "", "Score": "35",
			"Create Date": "05/29/2025 09:53 PM", "Create Date Timestamp": 1748570019}
	}
	b, err := json.Marshal(map[string]any{"Method Result": "Success", "NumPages": 10000, "TotalCount": 1000000, "Candidates": rows})
	if err != nil {
		panic(err)
	}
	return b
}
