package fake

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// field is one key of a JSON object; record keeps keys in the order the
// API sends them (encoding/json would sort a map's keys).
type field struct {
	key string
	val any // string, int, int64, []string, record or []record
}

type record []field

// get returns the value of key, or nil.
func (r record) get(key string) any {
	for _, f := range r {
		if f.key == key {
			return f.val
		}
	}
	return nil
}

// str returns the string value of key, or "".
func (r record) str(key string) string {
	s, _ := r.get(key).(string)
	return s
}

// set replaces the value of key, or appends the key if it is missing.
func (r record) set(key string, v any) record {
	for i := range r {
		if r[i].key == key {
			r[i].val = v
			return r
		}
	}
	return append(r, field{key, v})
}

// without returns a copy of r without key.
func (r record) without(key string) record {
	out := make(record, 0, len(r))
	for _, f := range r {
		if f.key != key {
			out = append(out, f)
		}
	}
	return out
}

// clone returns a shallow copy of r that can be changed without touching r.
func (r record) clone() record { return append(record(nil), r...) }

// marshal returns r as JSON.
func (r record) marshal() []byte { return appendJSON(nil, r) }

// appendJSON appends the JSON encoding of v. Strings are written like
// encoding/json with HTML escaping off: job listings and questionnaire
// answers carry raw HTML, as the real API sends it.
func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case []string:
		return appendArray(b, v, appendString)
	case record:
		b = append(b, '{')
		for i, f := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.key)
			b = append(b, ':')
			b = appendJSON(b, f.val)
		}
		return append(b, '}')
	case []record:
		return appendArray(b, v, func(b []byte, r record) []byte { return appendJSON(b, r) })
	case nil:
		return append(b, "null"...)
	}
	panic(fmt.Sprintf("fake: cannot encode %T", v))
}

// appendArray appends the JSON array of xs, each element written by elem.
func appendArray[T any](b []byte, xs []T, elem func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, x)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 { // invalid UTF-8, as encoding/json does
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// escapeEntities encodes text the way ApplicantStack stores note text:
// named HTML entities, including &apos; for the apostrophe.
func escapeEntities(s string) string {
	if !strings.ContainsAny(s, `&'"<>`) {
		return s
	}
	return entityReplacer.Replace(s)
}

var entityReplacer = strings.NewReplacer("&", "&amp;", "'", "&apos;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")

// Display formats of the API: local date-time, and date only.
const (
	layoutDateTime = "01/02/2006 03:04 PM"
	layoutDate     = "01/02/2006"
	layoutEvent    = "2006-01-02T15:04:05-07:00"
)

func (t *tenant) dateTime(ts int64) string {
	return time.Unix(ts, 0).In(t.loc).Format(layoutDateTime)
}

func (t *tenant) date(ts int64) string {
	return time.Unix(ts, 0).In(t.loc).Format(layoutDate)
}

// nextMidnight returns the first local midnight after ts, as epoch seconds.
func (t *tenant) nextMidnight(ts int64) int64 {
	lt := time.Unix(ts, 0).In(t.loc)
	y, m, d := lt.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.loc).Unix()
}
