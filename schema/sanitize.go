package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize returns raw with sensitive data removed, for remote_data columns
// and rejected_records payloads. Privacy is a hard rule: SSN, date of birth
// and onboarding form data are never written anywhere. At any depth it
// removes
//
//   - keys naming an SSN or a date of birth ("SSN", "DOB", "Social Security
//     Number", "Date of Birth", any case or spacing) and "Forms";
//   - for hires, "Questionnaires" (onboarding answers and uploaded documents);
//   - for webhooks, "Secret";
//   - the "Value" of a questionnaire question that asks for an SSN or a
//     date of birth;
//
// and in every string it masks anything shaped like an SSN (123-45-6789)
// and drops the apikey query parameter of signed links such as Files[].url.
//
// resource is "job", "candidate", "hire", "attachment" or "webhook" (plural
// forms too). Sanitize returns nil for empty input and for input that is not
// valid JSON, since it cannot prove what such input holds. When nothing
// needs removing it returns raw itself; when only link keys do, raw with
// them cut out; otherwise a re-encoded copy whose object keys are sorted.
func Sanitize(resource string, raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	r := sanitizeRules(resource)
	if !r.suspect(raw) {
		if !json.Valid(raw) {
			return nil
		}
		return raw
	}
	// Candidate detail is suspect only for its signed links: cut their
	// apikey out of the bytes, and keep that if nothing else is left to
	// remove ("apikey_expires" is harmless) and it is still valid JSON.
	if cleaned, cut := cutAPIKeys(raw); cut {
		if !r.suspectBesidesLinks(cleaned) && json.Valid(cleaned) {
			return cleaned
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil // trailing data
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.scrub(v)); err != nil {
		return nil
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

type rules struct {
	hire    bool
	webhook bool
}

func sanitizeRules(resource string) rules {
	res := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(resource)), "s")
	return rules{hire: res == "hire", webhook: res == "webhook"}
}

// ssnShape matches an SSN written the usual way. Phone numbers (3-3-4),
// ZIP+4 (5-4) and dates do not match.
var ssnShape = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)

// apikeyParam matches an apikey query parameter, also in HTML where '&' is
// written "&amp;", with the separator after it if any.
var apikeyParam = regexp.MustCompile(`(?i)(\?|&amp;|&)apikey=[^&#"'\s<>]*(&amp;|&)?`)

// sensitiveQuestion matches a question asking for an SSN or a birth date.
var sensitiveQuestion = regexp.MustCompile(`(?i)social\s*security|\bssn\b|\bdob\b|date\s*of\s*birth|birth\s*date`)

// suspect is a cheap test that raw might hold something to remove. It errs
// towards true: any JSON escape, invalid UTF-8 or a sensitive word sends the
// record down the slow path that decodes it. Words are looked for in raw
// reduced the way keys are (see normalizeKey), so "S.S.N" counts as "ssn".
func (r rules) suspect(raw []byte) bool { return r.suspectWords(raw, true) }

// suspectBesidesLinks is suspect for raw whose link keys are already cut:
// the word "apikey" alone (as in "apikey_expires") no longer counts.
func (r rules) suspectBesidesLinks(raw []byte) bool { return r.suspectWords(raw, false) }

func (r rules) suspectWords(raw []byte, links bool) bool {
	if bytes.Contains(raw, []byte(`\u`)) || !utf8.Valid(raw) || hasSSNShape(raw) {
		return true
	}
	lower := []byte(normalizeKey(string(raw)))
	words := []string{"ssn", "dob", "forms", "social", "birth"}
	if links {
		words = append(words, "apikey")
	}
	if r.hire {
		words = append(words, "questionnaires")
	}
	if r.webhook {
		words = append(words, "secret")
	}
	for _, w := range words {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return false
}

// cutAPIKeys removes every apikey query parameter from raw the way
// apikeyParam does ("?apikey=k&x=1" keeps "?x=1", "…/a6x?apikey=k" keeps
// "…/a6x", "&amp;" separators included), without the regexp engine, which
// is slow on every candidate detail. It reports whether it cut anything.
func cutAPIKeys(raw []byte) ([]byte, bool) {
	const key = "apikey="
	var out []byte
	last, cut := 0, false
	for i := 0; i+len(key) <= len(raw); i++ {
		if !strings.EqualFold(string(raw[i:i+len(key)]), key) {
			continue
		}
		sepStart := -1
		switch {
		case i >= 5 && strings.EqualFold(string(raw[i-5:i]), "&amp;"):
			sepStart = i - 5
		case i >= 1 && (raw[i-1] == '?' || raw[i-1] == '&'):
			sepStart = i - 1
		}
		if sepStart < last {
			continue
		}
		j := i + len(key)
		for j < len(raw) && !strings.ContainsRune("&#\"' \t\r\n\f<>", rune(raw[j])) {
			j++
		}
		out = append(out, raw[last:sepStart]...)
		switch {
		case j+5 <= len(raw) && strings.EqualFold(string(raw[j:j+5]), "&amp;"):
			out = append(out, raw[sepStart:i]...) // keep the separator before
			j += 5
		case j < len(raw) && raw[j] == '&':
			out = append(out, raw[sepStart:i]...)
			j++
		}
		last, cut, i = j, true, j-1
	}
	if !cut {
		return raw, false
	}
	return append(out, raw[last:]...), true
}

// hasSSNShape is ssnShape.Match without the regexp engine, which is slow
// on the fast path every record takes.
func hasSSNShape(b []byte) bool {
	digits := func(b []byte) bool {
		for _, c := range b {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	word := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
	}
	for i := 3; i+8 <= len(b); i++ {
		if b[i] != '-' || b[i+3] != '-' || !digits(b[i-3:i]) || !digits(b[i+1:i+3]) || !digits(b[i+4:i+8]) {
			continue
		}
		if (i == 3 || !word(b[i-4])) && (i+8 == len(b) || !word(b[i+8])) {
			return true
		}
	}
	return false
}

func (r rules) dropKey(key string) bool {
	k := normalizeKey(key)
	switch {
	case k == "dob", k == "birthday", k == "forms",
		strings.HasPrefix(k, "ssn"), strings.HasSuffix(k, "ssn"),
		strings.Contains(k, "socialsecurity"), strings.Contains(k, "dateofbirth"),
		strings.Contains(k, "birthdate"):
		return true
	case k == "questionnaires":
		return r.hire
	case k == "secret":
		return r.webhook
	}
	return false
}

// normalizeKey lowercases key and keeps only its ASCII letters and digits.
func normalizeKey(key string) string {
	b := make([]byte, 0, len(key))
	for _, c := range key {
		if c >= utf8.RuneSelf {
			c = unicode.ToLower(c) // 'K' (Kelvin) becomes 'k'
		}
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, byte(c)+'a'-'A')
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, byte(c))
		}
	}
	return string(b)
}

func (r rules) scrub(v any) any {
	switch v := v.(type) {
	case map[string]any:
		asksSensitive := false
		for k, x := range v {
			if r.dropKey(k) {
				delete(v, k)
				continue
			}
			if s, ok := x.(string); ok && normalizeKey(k) == "question" && sensitiveQuestion.MatchString(s) {
				asksSensitive = true
			}
			v[k] = r.scrub(x)
		}
		if asksSensitive {
			for k := range v {
				if normalizeKey(k) == "value" {
					delete(v, k)
				}
			}
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = r.scrub(x)
		}
		return v
	case string:
		return scrubString(v)
	}
	return v
}

func scrubString(s string) string {
	if strings.Contains(strings.ToLower(s), "apikey") {
		s = apikeyParam.ReplaceAllStringFunc(s, func(m string) string {
			sub := apikeyParam.FindStringSubmatch(m)
			if sub[2] != "" {
				return sub[1] // "?apikey=k&x=1" keeps "?x=1"
			}
			return ""
		})
	}
	return ssnShape.ReplaceAllString(s, "XXX-XX-XXXX")
}

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
	b, err := canonicalJSON(raw)
	if err != nil {
		b = raw
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// canonicalJSON rewrites one JSON value with object members sorted by key
// and whitespace removed. Strings and numbers keep their literal bytes. It
// is hand-written rather than a decode and re-encode because every list row
// of every run is hashed, and this is several times faster.
func canonicalJSON(src []byte) ([]byte, error) {
	c := canonicalizer{src: src}
	out, err := c.value(make([]byte, 0, len(src)), 0)
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
		switch c.src[c.pos] {
		case '\\':
			c.pos += 2
		case '"':
			c.pos++
			return c.src[start:c.pos], nil
		default:
			c.pos++
		}
	}
	return nil, errSyntax
}

type member struct{ key, val []byte }

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
		ms = append(ms, member{key, val})
		c.space()
		if c.pos >= len(c.src) {
			return nil, errSyntax
		}
		if c.src[c.pos] == '}' {
			c.pos++
			break
		}
		if c.src[c.pos] != ',' {
			return nil, errSyntax
		}
		c.pos++
	}
	slices.SortFunc(ms, func(a, b member) int {
		if d := bytes.Compare(a.key, b.key); d != 0 {
			return d
		}
		return bytes.Compare(a.val, b.val) // duplicate keys
	})
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
		c.space()
		if c.pos >= len(c.src) {
			return nil, errSyntax
		}
		if c.src[c.pos] == ']' {
			c.pos++
			break
		}
		if c.src[c.pos] != ',' {
			return nil, errSyntax
		}
		c.pos++
	}
	return append(dst, ']'), nil
}
