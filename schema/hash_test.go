package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

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

// canonicalJSON is appendCanonical into a new buffer.
func canonicalJSON(src []byte) ([]byte, error) {
	return appendCanonical(make([]byte, 0, len(src)), src)
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

// TestRowHash_keyOrder checks the key order sortMembers keeps between
// objects: whatever object came before, an object canonicalizes as it does
// alone.
func TestRowHash_keyOrder(t *testing.T) {
	many := func(n int, rev bool) string {
		var b bytes.Buffer
		b.WriteByte('{')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			k := i
			if rev {
				k = n - 1 - i
			}
			fmt.Fprintf(&b, `"k%02d":%d`, k, i)
		}
		b.WriteByte('}')
		return b.String()
	}
	objs := []string{
		`{"b":1,"a":2,"c":3}`, `{"b":4,"a":5,"c":6}`, `{"a":1,"b":2,"c":3}`, `{"b":1,"a":2}`,
		`{"b":1,"a":2,"c":3,"d":4}`, `{"b":1,"b":0,"c":3}`, `{"b":1,"a":2,"a":3}`, `{"b":{"y":1,"x":2},"a":[{"d":1,"c":2}]}`,
		`{"b":1,"a":{"b":1,"a":2,"c":3},"c":3}`, `{"b":"\"","a":"x"}`, `{"B":1,"a":2,"c":3}`, `{}`, `[{"b":1,"a":2,"c":3}]`,
		many(32, true), many(32, false), many(33, true), many(40, true),
	}
	for _, before := range objs {
		for _, o := range objs {
			lastOrder.Store(nil)
			want, err := canonicalJSON([]byte(o))
			if err != nil {
				t.Fatal(err)
			}
			lastOrder.Store(nil)
			if _, err := canonicalJSON([]byte(before)); err != nil {
				t.Fatal(err)
			}
			if got, _ := canonicalJSON([]byte(o)); string(got) != string(want) {
				t.Errorf("after %s: canonicalJSON(%s) = %s, want %s", before, o, got, want)
			}
		}
	}
	if got, _ := canonicalJSON([]byte(`{"b":1,"b":0,"c":3}`)); string(got) != `{"b":0,"b":1,"c":3}` {
		t.Errorf("duplicate keys: %s", got)
	}
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
		lastOrder.Store(nil)
		if RowHash(in) != h {
			t.Fatal("the key order kept from an earlier input changed the hash")
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
