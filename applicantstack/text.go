package applicantstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Text is a string field as real accounts send it: usually a JSON string,
// sometimes a number, a boolean or null. Decoding trims surrounding space
// and decodes HTML entities ("O&apos;Brien" becomes "O'Brien"); the record's
// Raw keeps the original bytes.
type Text string

// UnmarshalJSON implements json.Unmarshaler. It never fails on a scalar.
func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"' && len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && isPlain(b[1:len(b)-1]):
		*t = Text(clean(string(b[1 : len(b)-1])))
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(clean(s))
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string, got %s", kindOf(b[0]))
	default: // number or boolean: keep its literal form
		*t = Text(b)
	}
	return nil
}

// String returns the text.
func (t Text) String() string { return string(t) }

func clean(s string) string {
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return strings.TrimSpace(s)
}

// Epoch is a "… Timestamp" field: Unix seconds, sent as a number or a
// numeric string. Zero means absent ("" or null). Anything else, such as
// "abc", is a decoding error, which makes the record a RecordError.
type Epoch int64

// UnmarshalJSON implements json.Unmarshaler.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*e = 0
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*e = 0
			return nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < -1e12 || f > 1e12 {
			return fmt.Errorf("timestamp %q is not epoch seconds", truncate(s, 40))
		}
		n = int64(f)
	}
	*e = Epoch(n)
	return nil
}

// Flag is a 0/1 field such as is_resume; true, "1", "yes" and "true" are
// also accepted.
type Flag bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *Flag) UnmarshalJSON(b []byte) error {
	s := strings.ToLower(strings.Trim(string(bytes.TrimSpace(b)), `"`))
	switch s {
	case "1", "true", "yes", "y":
		*f = true
	case "0", "false", "no", "n", "", "null":
		*f = false
	default:
		return fmt.Errorf("flag %q is not 0 or 1", truncate(s, 40))
	}
	return nil
}

func kindOf(c byte) string {
	if c == '{' {
		return "an object"
	}
	return "an array"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// isPlain reports whether a JSON string's body needs no unescaping: no
// backslashes and only printable ASCII or valid multi-byte UTF-8.
func isPlain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' {
			return false
		}
		if c >= 0x80 {
			return utf8.Valid(b)
		}
	}
	return true
}
