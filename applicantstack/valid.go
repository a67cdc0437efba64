package applicantstack

import (
	"encoding/binary"
	"encoding/json"
)

// validJSON reports whether b is one valid JSON value, accepting exactly
// what json.Valid accepts (FuzzValidJSON holds it to that), at twice its
// speed: every list page's body and every record Sanitize cannot trust
// get this check. Like json.Valid it accepts invalid UTF-8 inside strings
// and refuses nesting deeper than 10000.
func validJSON(b []byte) bool {
	v := validator{b: b}
	return v.valid()
}

func (v *validator) valid() bool {
	v.space()
	if !v.value(0) {
		return false
	}
	v.space()
	return v.i == len(v.b)
}

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

type validator struct {
	b []byte
	i int
	// With split set, the validator keeps the members of a top-level
	// object and the elements of the arrays they hold (decodeEnvelope).
	split   bool
	members []member
	elems   *[]json.RawMessage // the array member being read
}

// member is one member of a top-level object: its key as written (quoted),
// its value, and the value's elements when it is an array.
type member struct {
	key, val []byte
	elems    []json.RawMessage
}

func (v *validator) space() {
	for v.i < len(v.b) {
		switch v.b[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
		default:
			return
		}
	}
}

func (v *validator) value(depth int) bool {
	if v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; {
	case c == '"':
		return v.str()
	case c == '{':
		return v.object(depth + 1)
	case c == '[':
		return v.array(depth + 1)
	case c == '-' || c >= '0' && c <= '9':
		return v.number()
	case c == 't':
		return v.literal("true")
	case c == 'f':
		return v.literal("false")
	case c == 'n':
		return v.literal("null")
	}
	return false
}

func (v *validator) literal(lit string) bool {
	if len(v.b)-v.i < len(lit) || string(v.b[v.i:v.i+len(lit)]) != lit {
		return false
	}
	v.i += len(lit)
	return true
}

// open consumes the opening byte of an object or array at depth and the
// space after it, and the closing byte end when the value is empty (empty).
// It is not ok past encoding/json's nesting limit.
func (v *validator) open(depth int, end byte) (empty, ok bool) {
	if depth > maxNesting {
		return false, false
	}
	v.i++ // '{' or '['
	v.space()
	if v.i < len(v.b) && v.b[v.i] == end {
		v.i++
		return true, true
	}
	return false, true
}

func (v *validator) object(depth int) bool {
	if empty, ok := v.open(depth, '}'); empty || !ok {
		return ok
	}
	for {
		// memberKey, written out: the loop of every list page's check
		// is 4 % faster with it inline (BenchmarkValidJSON).
		ks := v.i
		if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
			return false
		}
		ke := v.i
		v.space()
		if v.i >= len(v.b) || v.b[v.i] != ':' {
			return false
		}
		v.i++
		v.space()
		if v.split && depth == 1 {
			vs := v.i
			v.members = append(v.members, member{key: v.b[ks:ke]})
			m := &v.members[len(v.members)-1]
			v.elems = &m.elems
			if !v.value(depth) {
				return false
			}
			m.val = v.b[vs:v.i]
		} else if !v.value(depth) {
			return false
		}
		if more, ok := v.next('}'); !more {
			return ok
		}
	}
}

// memberKey reads an object member's key and the colon after it, leaving
// v at the value; it returns the key as written, quoted.
func (v *validator) memberKey() ([]byte, bool) {
	ks := v.i
	if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
		return nil, false
	}
	ke := v.i
	v.space()
	if v.i >= len(v.b) || v.b[v.i] != ':' {
		return nil, false
	}
	v.i++
	v.space()
	return v.b[ks:ke], true
}

// next consumes what follows a member or an element: a comma (more) or the
// closing byte end (ok); anything else is not ok.
func (v *validator) next(end byte) (more, ok bool) {
	v.space()
	if v.i >= len(v.b) {
		return false, false
	}
	switch v.b[v.i] {
	case ',':
		v.i++
		v.space()
		return true, true
	case end:
		v.i++
		return false, true
	}
	return false, false
}

func (v *validator) array(depth int) bool {
	empty, ok := v.open(depth, ']')
	if !ok {
		return false
	}
	var elems *[]json.RawMessage
	if v.split && depth == 2 && v.elems != nil { // a member of a top-level object
		elems = v.elems
		if empty {
			*elems = []json.RawMessage{}
			return true
		}
		*elems = make([]json.RawMessage, 0, PageSize)
	}
	if empty {
		return true
	}
	for {
		start := v.i
		if !v.value(depth) {
			return false
		}
		if elems != nil {
			*elems = append(*elems, v.b[start:v.i:v.i])
		}
		if more, ok := v.next(']'); !more {
			return ok
		}
	}
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// str checks the string starting at b[i]: no control characters, escapes
// that JSON has. Eight bytes at a time while none of them is a quote, a
// backslash or a control character.
func (v *validator) str() bool {
	b := v.b
	i := v.i + 1
	for {
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q, s := x^(swarOnes*'"'), x^(swarOnes*'\\')
			if ((q-swarOnes)&^q|(s-swarOnes)&^s|(x-swarOnes*0x20)&^x)&swarHigh != 0 {
				break
			}
			i += 8
		}
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			v.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (v *validator) number() bool {
	b, i := v.b, v.i
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > start
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	v.i = i
	return true
}
