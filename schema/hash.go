package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// RowHash returns a stable 16-hex-character hash (64 bits of SHA-256) of a
// JSON record: object keys are sorted and insignificant whitespace dropped
// first, so reordering keys or reformatting does not change it, while any
// change of a value does. Input that is not valid JSON is hashed as bytes.
// Empty input gives "". Hash the sanitized record (Mapper does), so that
// neither a removed field nor a rotating link key counts as a change.
func RowHash(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	buf := canonicalBufs.Get().(*[]byte)
	defer canonicalBufs.Put(buf)
	b, err := appendCanonical((*buf)[:0], raw)
	if err != nil {
		b = raw
	} else {
		*buf = b
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// canonicalBufs holds RowHash's buffers: every list row of every run is
// hashed.
var canonicalBufs = sync.Pool{New: func() any { return new([]byte) }}

// appendCanonical appends src, one JSON value, to dst with object members
// sorted by key and whitespace removed. Strings and numbers keep their
// literal bytes. It is hand-written rather than a decode and re-encode
// because every list row of every run is hashed, and this is several times
// faster.
func appendCanonical(dst, src []byte) ([]byte, error) {
	c := canonicalizer{src: src}
	out, err := c.value(dst, 0)
	if err != nil {
		return nil, err
	}
	c.space()
	if c.pos != len(c.src) {
		return nil, errSyntax
	}
	return out, nil
}

var errSyntax = errors.New("schema: invalid JSON")

const maxDepth = 1000

type canonicalizer struct {
	src []byte
	pos int
}

func (c *canonicalizer) space() {
	for c.pos < len(c.src) {
		switch c.src[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canonicalizer) value(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errSyntax
	}
	c.space()
	if c.pos >= len(c.src) {
		return nil, errSyntax
	}
	switch c.src[c.pos] {
	case '{':
		return c.object(dst, depth)
	case '[':
		return c.array(dst, depth)
	}
	lit, err := c.scalar()
	return append(dst, lit...), err
}

// scalar consumes a string, number, true, false or null and returns it as
// written, without copying.
func (c *canonicalizer) scalar() ([]byte, error) {
	if c.pos < len(c.src) && c.src[c.pos] == '"' {
		return c.str()
	}
	start := c.pos
	for c.pos < len(c.src) && strings.IndexByte(",]} \t\n\r:", c.src[c.pos]) < 0 {
		c.pos++
	}
	lit := c.src[start:c.pos]
	switch string(lit) {
	case "true", "false", "null":
		return lit, nil
	}
	if !isNumber(lit) {
		return nil, errSyntax
	}
	return lit, nil
}

// isNumber reports whether b is a JSON number.
func isNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// str consumes a string and returns it with its quotes, as written.
func (c *canonicalizer) str() ([]byte, error) {
	start := c.pos
	c.pos++ // opening quote
	for c.pos < len(c.src) {
		q := bytes.IndexByte(c.src[c.pos:], '"')
		if q < 0 {
			break
		}
		if b := bytes.IndexByte(c.src[c.pos:c.pos+q], '\\'); b >= 0 {
			c.pos += b + 2 // an escape: the quote may be its
			continue
		}
		c.pos += q + 1
		return c.src[start:c.pos], nil
	}
	return nil, errSyntax
}

type member struct {
	key, val []byte
	pos      uint8 // position in the object, while sortMembers sorts
}

func (c *canonicalizer) object(dst []byte, depth int) ([]byte, error) {
	c.pos++ // '{'
	var small [32]member
	ms := small[:0]
	for {
		c.space()
		if c.pos < len(c.src) && c.src[c.pos] == '}' && len(ms) == 0 {
			c.pos++
			break
		}
		if c.pos >= len(c.src) || c.src[c.pos] != '"' {
			return nil, errSyntax
		}
		key, err := c.str()
		if err != nil {
			return nil, err
		}
		c.space()
		if c.pos >= len(c.src) || c.src[c.pos] != ':' {
			return nil, errSyntax
		}
		c.pos++
		c.space()
		var val []byte
		if c.pos < len(c.src) && (c.src[c.pos] == '{' || c.src[c.pos] == '[') {
			val, err = c.value(nil, depth+1) // nested: its own canonical bytes
		} else {
			val, err = c.scalar() // its own canonical form: no copy
		}
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{key: key, val: val})
		if end, err := c.next('}'); err != nil || end {
			if err != nil {
				return nil, err
			}
			break
		}
	}
	sortMembers(ms, depth)
	dst = append(dst, '{')
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, m.key...)
		dst = append(dst, ':')
		dst = append(dst, m.val...)
	}
	return append(dst, '}'), nil
}

// sortMembers sorts an object's members by key, then value (duplicate
// keys). List rows repeat one key sequence, so the order found for a
// top-level object whose keys are distinct is kept and reused while the
// keys come in the same sequence: sorting again is a fifth of a row's hash.
func sortMembers(ms []member, depth int) {
	if depth == 0 {
		if o := lastOrder.Load(); o != nil && o.apply(ms) {
			return
		}
	}
	var o *keyOrder
	if depth == 0 && len(ms) <= 32 {
		o = &keyOrder{keys: make([][]byte, len(ms)), perm: make([]uint8, len(ms))}
		for i := range ms {
			o.keys[i] = slices.Clone(ms[i].key)
			ms[i].pos = uint8(i)
		}
	}
	slices.SortFunc(ms, func(a, b member) int {
		if d := bytes.Compare(a.key, b.key); d != 0 {
			return d
		}
		return bytes.Compare(a.val, b.val) // duplicate keys
	})
	if o == nil {
		return
	}
	for i := range ms {
		if i > 0 && bytes.Equal(ms[i-1].key, ms[i].key) {
			return // a duplicate key: the order depends on the values
		}
		o.perm[i] = ms[i].pos
	}
	lastOrder.Store(o)
}

// keyOrder is the sorted order of one sequence of distinct keys: perm[i]
// is the position in keys of the i-th smallest.
type keyOrder struct {
	keys [][]byte
	perm []uint8
}

var lastOrder atomic.Pointer[keyOrder]

// apply sorts ms by o when ms has o's keys in o's sequence.
func (o *keyOrder) apply(ms []member) bool {
	if len(ms) != len(o.keys) || len(ms) > 32 {
		return false
	}
	for i := range ms {
		if !bytes.Equal(ms[i].key, o.keys[i]) {
			return false
		}
	}
	var in [32]member
	copy(in[:], ms)
	for i, p := range o.perm {
		ms[i] = in[p]
	}
	return true
}

func (c *canonicalizer) array(dst []byte, depth int) ([]byte, error) {
	c.pos++ // '['
	dst = append(dst, '[')
	for n := 0; ; n++ {
		c.space()
		if c.pos < len(c.src) && c.src[c.pos] == ']' && n == 0 {
			c.pos++
			break
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = c.value(dst, depth+1); err != nil {
			return nil, err
		}
		if end, err := c.next(']'); err != nil || end {
			if err != nil {
				return nil, err
			}
			break
		}
	}
	return append(dst, ']'), nil
}

// next consumes what follows a member or an element: a comma (false) or
// the closing byte end (true).
func (c *canonicalizer) next(end byte) (bool, error) {
	c.space()
	if c.pos >= len(c.src) {
		return false, errSyntax
	}
	switch c.src[c.pos] {
	case end:
		c.pos++
		return true, nil
	case ',':
		c.pos++
		return false, nil
	}
	return false, errSyntax
}
