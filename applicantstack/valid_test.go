package applicantstack

import (
	"encoding/json"
	"strings"
	"testing"
)

var validCases = []string{
	``, ` `, `{}`, `[]`, `""`, `"\u00e9\n\"\\\/\b\f\r\t"`, `"\u00G0"`, `"\x"`, "\"a\x01\"", "\"\xff\xfe\"", `"abcdefghijklmnop\"q"`,
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `-1.5e3`, `2x`, `true`, `tru`, `truex`, `null`, `nul`, `false`,
	`{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{,}`, `{"a":1 "b":2}`, `{1:2}`, `[1,]`, `[,1]`, `[1 2]`, `[[[]]]`, `[[[]]`,
	` {"a" : [ 1 , {"b":null} ] } `, `{"a":1}x`, `{"a":1}{}`, "{\"a\":\"tab\there\"}", `"ends with backslash\`, `"\u12`,
	listPageJSON,
}

const listPageJSON = `{"Method Result":"Success","NumPages":1,"Candidates":[{"Candidate Serial":"a4x","Last Name":"Núñez","Score":"35","Create Date Timestamp":1748570019}]}`

func TestValidJSON(t *testing.T) {
	cases := append(validCases, strings.Repeat("[", 10000)+strings.Repeat("]", 10000),
		strings.Repeat("[", 10001)+strings.Repeat("]", 10001),
		strings.Repeat(`{"a":`, 10000)+"1"+strings.Repeat("}", 10000),
		strings.Repeat(`{"a":`, 10001)+"1"+strings.Repeat("}", 10001))
	for _, c := range cases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%.60q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	page := listPageBody(100)
	for _, v := range []struct {
		name  string
		valid func([]byte) bool
	}{{"validJSON", validJSON}, {"json.Valid", json.Valid}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if !v.valid(page) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
