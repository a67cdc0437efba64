package applicantstack

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// Candidates are decoded without encoding/json's reflection when their
// JSON holds no surprise: decodeCandidate walks the answer once, with the
// validator (exactly json.Valid), and hands each member's value to the
// field's own UnmarshalJSON, the bytes encoding/json would hand it. It
// declines anything whose meaning encoding/json decides in its own way (a
// key that matches a field only by case or holds an escape, a value of
// the wrong kind, null inside an array, an error from a field), and the
// caller then decodes with json.Unmarshal: the result is always
// json.Unmarshal's (FuzzDecodeCandidate holds it to that). A fake detail
// takes it 12 µs instead of 29 µs (BenchmarkDecodeCandidate).

// unmarshalCandidate decodes b into c as json.Unmarshal(b, c) does, after
// emptying c.
func unmarshalCandidate(b []byte, c *Candidate) error {
	*c = Candidate{}
	if decodeCandidate(b, c, nil) {
		return nil
	}
	*c = Candidate{}
	return json.Unmarshal(b, c)
}

// unmarshalRecord decodes a detail answer into rec and env as
// json.Unmarshal(b, rec.withEnvelope(env)) does.
func unmarshalRecord(b []byte, rec record, env *envelope) error {
	if c, ok := rec.(*Candidate); ok {
		*c = Candidate{}
		if decodeCandidate(b, c, env) {
			return nil
		}
		*env = envelope{}
	}
	return json.Unmarshal(b, rec.withEnvelope(env))
}

// decodeCandidate decodes b, one JSON object, into c (empty) and env (the
// envelope's members, when env is not nil), and reports whether it could;
// false leaves c and env to be emptied and decoded by json.Unmarshal.
func decodeCandidate(b []byte, c *Candidate, env *envelope) bool {
	v := validator{b: b}
	v.space()
	if v.i >= len(b) || b[v.i] != '{' {
		return false
	}
	ok := v.eachMember(1, func(key []byte, v *validator) bool {
		if env != nil {
			if set, known := env.member(key, v); known {
				return set
			}
		}
		if set, known := c.member(key, v); known {
			return set
		}
		return !foldsTo(key, candidateKeys) && (env == nil || !foldsTo(key, envelopeKeys)) && v.value(1)
	})
	if !ok {
		return false
	}
	v.space()
	return v.i == len(b)
}

// eachMember walks the object at v.i (nesting depth), validating it, and
// calls fn with each member's key and v at its value, which fn reads. It
// stops, not ok, at invalid JSON, at a key with an escape, and when fn
// returns false.
func (v *validator) eachMember(depth int, fn func(key []byte, v *validator) bool) bool {
	if empty, ok := v.open(depth, '}'); empty || !ok {
		return ok
	}
	for {
		quoted, ok := v.memberKey()
		if !ok {
			return false
		}
		key := quoted[1 : len(quoted)-1]
		if bytes.IndexByte(key, '\\') >= 0 || v.i >= len(v.b) || !fn(key, v) {
			return false
		}
		if more, ok := v.next('}'); !more {
			return ok
		}
	}
}

// objects reads the value at v.i, a member's of an object at nesting
// depth: null or an array of objects, into a slice of T the way
// encoding/json does (null: nil; [] an empty slice), each object by
// member, validating it as it goes. It declines any other element.
func objects[T any](v *validator, depth int, member func(*T, []byte, *validator) (set, known bool), keys []string) ([]T, bool) {
	if v.b[v.i] == 'n' {
		return nil, v.literal("null")
	}
	if v.b[v.i] != '[' {
		return nil, false
	}
	empty, ok := v.open(depth+1, ']')
	if !ok {
		return nil, false
	}
	out := []T{}
	if empty {
		return out, true
	}
	for {
		if v.i >= len(v.b) || v.b[v.i] != '{' {
			return nil, false
		}
		var t T
		if !v.eachMember(depth+2, func(key []byte, v *validator) bool {
			if set, known := member(&t, key, v); known {
				return set
			}
			return !foldsTo(key, keys) && v.value(depth+2)
		}) {
			return nil, false
		}
		out = append(out, t)
		if more, ok := v.next(']'); !more {
			return out, ok
		}
	}
}

// scalar reads the value at v.i, a member's of an object at nesting depth:
// a string, number, true, false or null; it declines an object or an
// array (encoding/json names the field in its error).
func scalar(v *validator, depth int) ([]byte, bool) {
	if c := v.b[v.i]; c == '{' || c == '[' {
		return nil, false
	}
	start := v.i
	if !v.value(depth) {
		return nil, false
	}
	return v.b[start:v.i], true
}

// Text, Epoch and Flag values decode themselves from the bytes
// encoding/json would hand them.

func text(t *Text, v *validator, depth int) bool {
	val, ok := scalar(v, depth)
	return ok && t.UnmarshalJSON(val) == nil
}

func epoch(e *Epoch, v *validator, depth int) bool {
	val, ok := scalar(v, depth)
	return ok && e.UnmarshalJSON(val) == nil
}

func flag(f *Flag, v *validator, depth int) bool {
	val, ok := scalar(v, depth)
	return ok && f.UnmarshalJSON(val) == nil
}

// textPtr: null sets nil, as encoding/json does for a pointer.
func textPtr(t **Text, v *validator, depth int) bool {
	if v.b[v.i] == 'n' {
		*t = nil
		return v.literal("null")
	}
	*t = new(Text)
	return text(*t, v, depth)
}

// jsonKeys returns the member names encoding/json decodes into T: its
// fields' json tags, the fields of an embedded struct included, so that a
// type's member switch and the keys it is checked against for case-folded
// matches have one source.
func jsonKeys[T any]() []string {
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			case !f.IsExported() || name == "-":
			case name == "":
				keys = append(keys, f.Name)
			default:
				keys = append(keys, name)
			}
		}
	}
	walk(reflect.TypeFor[T]())
	return keys
}

// foldsTo reports whether key, not one of keys, is one of them but for
// case: encoding/json would take it for that field. A key with a byte
// outside ASCII counts as a match (Unicode case folding is its own).
func foldsTo(key []byte, keys []string) bool {
	for _, c := range key {
		if c >= 0x80 {
			return true
		}
	}
	for _, k := range keys {
		if len(k) == len(key) && foldASCII(k, key) {
			return true
		}
	}
	return false
}

func foldASCII(k string, key []byte) bool {
	for i := range len(k) {
		a, b := k[i], key[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

var envelopeKeys = jsonKeys[envelope]()

// member sets the envelope's member key; known says it is one.
func (env *envelope) member(key []byte, v *validator) (set, known bool) {
	switch string(key) {
	case "Method Result":
		return textPtr(&env.Result, v, 1), true
	case "Error":
		return text(&env.Error, v, 1), true
	case "NumPages":
		return textPtr(&env.NumPages, v, 1), true
	case "TotalCount":
		return textPtr(&env.TotalCount, v, 1), true
	case "Jobs", "Candidates", "Hires": // not in a candidate's detail
		return false, true
	}
	return false, false
}

var candidateKeys = jsonKeys[Candidate]()

// member sets the candidate's member key; known says it is one.
func (c *Candidate) member(key []byte, v *validator) (set, known bool) {
	var t *Text
	switch string(key) {
	case "Candidate Serial":
		t = &c.Serial
	case "Job Serial":
		t = &c.JobSerial
	case "Job Name":
		t = &c.JobName
	case "First Name":
		t = &c.FirstName
	case "Last Name":
		t = &c.LastName
	case "Email":
		t = &c.Email
	case "Source":
		t = &c.Source
	case "Rating":
		t = &c.Rating
	case "Disposition":
		t = &c.Disposition
	case "Referred By":
		t = &c.ReferredBy
	case "Stage":
		t = &c.Stage
	case "Stage Type":
		t = &c.StageType
	case "Score":
		t = &c.Score
	case "Create Date":
		t = &c.CreateDate
	case "Cover Letter":
		t = &c.CoverLetter
	case "Address 1":
		t = &c.Address1
	case "Address 2":
		t = &c.Address2
	case "City":
		t = &c.City
	case "State":
		t = &c.State
	case "Zip":
		t = &c.Zip
	case "Phone":
		t = &c.Phone
	case "Create Date Timestamp":
		return epoch(&c.CreateDateTimestamp, v, 1), true
	case "Notes":
		c.Notes, set = objects(v, 1, (*Note).member, noteKeys)
		return set, true
	case "Files":
		c.Files, set = objects(v, 1, (*File).member, fileKeys)
		return set, true
	case "Questionnaires":
		c.Questionnaires, set = objects(v, 1, (*Questionnaire).member, questionnaireKeys)
		return set, true
	default:
		return false, false
	}
	return text(t, v, 1), true
}

var noteKeys = jsonKeys[Note]()

func (n *Note) member(key []byte, v *validator) (set, known bool) {
	switch string(key) {
	case "text":
		return text(&n.Text, v, 3), true
	case "type":
		return text(&n.Type, v, 3), true
	case "timestamp":
		return epoch(&n.Timestamp, v, 3), true
	}
	return false, false
}

var fileKeys = jsonKeys[File]()

func (f *File) member(key []byte, v *validator) (set, known bool) {
	switch string(key) {
	case "name":
		return text(&f.Name, v, 3), true
	case "url":
		return text(&f.URL, v, 3), true
	case "is_resume":
		return flag(&f.IsResume, v, 3), true
	case "apikey_expires":
		return epoch(&f.APIKeyExpires, v, 3), true
	}
	return false, false
}

var questionnaireKeys = jsonKeys[Questionnaire]()

func (q *Questionnaire) member(key []byte, v *validator) (set, known bool) {
	switch string(key) {
	case "Questionnaire Name":
		return text(&q.Name, v, 3), true
	case "Questionnaire Serial":
		return text(&q.Serial, v, 3), true
	case "Submit Date":
		return text(&q.SubmitDate, v, 3), true
	case "Score":
		return text(&q.Score, v, 3), true
	case "Feedback User":
		return text(&q.FeedbackUser, v, 3), true
	case "Questions":
		q.Questions, set = objects(v, 3, (*Question).member, questionKeys)
		return set, true
	}
	return false, false
}

var questionKeys = jsonKeys[Question]()

func (q *Question) member(key []byte, v *validator) (set, known bool) {
	switch string(key) {
	case "Question":
		return text(&q.Question, v, 5), true
	case "Value":
		return text(&q.Value, v, 5), true
	}
	return false, false
}
