package applicantstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/bits"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize is stackhouse's privacy policy, the one place it is written:
// it returns raw with the data stackhouse must never store removed.
// Privacy is a hard rule: SSN, date of birth and onboarding form data are
// never written anywhere. At any depth it removes
//
//   - keys naming an SSN or a date of birth ("SSN", "DOB", "Social Security
//     Number", "Date of Birth", "Birthday", "Birthdate", any case, spacing or
//     punctuation) and "Forms";
//   - for hires, "Questionnaires" (onboarding answers and uploaded documents);
//   - for webhooks, "Secret";
//   - the "Value" of a questionnaire question that asks for an SSN or a
//     date of birth;
//
// and in every string it masks anything shaped like an SSN (123-45-6789)
// and drops the apikey query parameter of signed links such as Files[].url.
//
// The client applies it at the boundary: every record it returns (Raw of
// jobs, candidates and hires, list rows and details) and every RecordError
// payload; ParseWebhook applies it to WebhookEvent.Raw. The warehouse
// applies it once more, as a final guard, to what it writes.
//
// resource is "job", "candidate", "hire", "attachment" or "webhook" (plural
// forms too). Sanitize returns nil for empty input and for input that is not
// valid JSON, since it cannot prove what such input holds. When nothing
// needs removing it returns raw itself (so a record's row hash does not
// change with how the API escapes its strings); when only link keys do, raw
// with them cut out; otherwise a re-encoded copy whose object keys are
// sorted. It is idempotent.
func Sanitize(resource string, raw json.RawMessage) json.RawMessage {
	return sanitize(resource, raw, false)
}

// sanitize is Sanitize; valid says raw is known to be one valid JSON value
// (the client has just decoded it), which spares the fast path a check.
func sanitize(resource string, raw json.RawMessage, valid bool) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	r := sanitizeRules(resource)
	if !r.suspect(raw) {
		if !valid && !validJSON(raw) {
			return nil
		}
		return raw
	}
	// Candidate detail is suspect only for its signed links: cut their
	// apikey out of the bytes, and keep that if nothing else is left to
	// remove ("apikey_expires" is harmless) and it is still valid JSON.
	// An already sanitized detail is suspect for "apikey_expires" alone:
	// nothing is cut, and the bytes are kept as they are. A cut without a
	// backslash keeps valid JSON valid (see cutAPIKeys).
	if cleaned, escaped := cutAPIKeys(raw); !r.suspectBesidesLinks(cleaned) {
		if valid && !escaped || validJSON(cleaned) {
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
	v, changed := r.scrub(v)
	if !changed && utf8.Valid(raw) {
		return raw // suspect, but nothing to remove: an escape or a harmless word
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
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
	return wordSets[b2i(r.hire)][b2i(r.webhook)][b2i(links)].in(raw)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wordSet is a set of up to 8 words as normalize leaves them, each at
// least 2 bytes long.
type wordSet struct {
	words []string
	// first has bit i set at the index of words[i]'s first two bytes
	// (keyIndex of each, the first times keyChars).
	first [keyChars * keyChars]uint8
}

// wordSets holds the words that make a record suspect, by rules.hire,
// rules.webhook and whether link keys are still uncut: "ssn", "dob",
// "forms", "social" and "birth" always, "questionnaires" for hires,
// "secret" for webhooks and "apikey" while links are uncut.
var wordSets = func() (t [2][2][2]*wordSet) {
	for h := range 2 {
		for w := range 2 {
			for l := range 2 {
				s := &wordSet{words: []string{"ssn", "dob", "forms", "social", "birth"}}
				if h == 1 {
					s.words = append(s.words, "questionnaires")
				}
				if w == 1 {
					s.words = append(s.words, "secret")
				}
				if l == 1 {
					s.words = append(s.words, "apikey")
				}
				for i, word := range s.words {
					s.first[int(keyIndex[word[0]])*keyChars+int(keyIndex[word[1]])] |= 1 << i
				}
				t[h][w][l] = s
			}
		}
	}
	return t
}()

// in reports whether normalize(raw) contains one of the words, without
// allocating for a record of up to 4 KiB (a candidate's detail is about
// 2 KiB): one pass over the normalized bytes, comparing a word only where
// its first two letters are.
func (s *wordSet) in(raw []byte) bool {
	var buf [4096]byte
	lower := buf[:0]
	if len(raw) > len(buf) {
		lower = make([]byte, 0, len(raw))
	}
	lower = appendNormalized(lower, raw)
	for i := 0; i+1 < len(lower); i++ {
		m := s.first[int(keyIndex[lower[i]])*keyChars+int(keyIndex[lower[i+1]])]
		for ; m != 0; m &= m - 1 {
			if bytes.HasPrefix(lower[i:], []byte(s.words[bits.TrailingZeros8(m)])) {
				return true
			}
		}
	}
	return false
}

// keyChars is the number of bytes normalize keeps: digits and lowercase
// ASCII letters, which keyIndex numbers from 0.
const keyChars = 36

var keyIndex = func() (t [256]uint8) {
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'z'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// cutAPIKeys removes every apikey query parameter from raw the way
// apikeyParam does ("?apikey=k&x=1" keeps "?x=1", "…/a6x?apikey=k" keeps
// "…/a6x", "&amp;" separators included), without the regexp engine, which
// is slow on every candidate detail; raw itself when there is nothing to
// cut. It reports whether a cut took a backslash: a cut without one leaves valid JSON
// valid (it removes plain characters inside one string, never a quote or
// part of an escape).
func cutAPIKeys(raw []byte) (out []byte, escaped bool) {
	const key = "apikey="
	last := 0
	for i := 0; i+len(key) <= len(raw); i++ {
		// Find the next '=' ending "apikey" (any case) with one scan.
		eq := bytes.IndexByte(raw[i+len(key)-1:], '=')
		if eq < 0 {
			break
		}
		i += eq
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
		escaped = escaped || bytes.IndexByte(raw[sepStart:j], '\\') >= 0
		switch {
		case j+5 <= len(raw) && strings.EqualFold(string(raw[j:j+5]), "&amp;"):
			out = append(out, raw[sepStart:i]...) // keep the separator before
			j += 5
		case j < len(raw) && raw[j] == '&':
			out = append(out, raw[sepStart:i]...)
			j++
		}
		last, i = j, j-1
	}
	if last == 0 {
		return raw, false // nothing cut
	}
	return append(out, raw[last:]...), escaped
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
		dash := bytes.IndexByte(b[i:len(b)-7], '-')
		if dash < 0 {
			return false
		}
		i += dash
		if b[i+3] != '-' || !digits(b[i-3:i]) || !digits(b[i+1:i+3]) || !digits(b[i+4:i+8]) {
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
	return string(normalize([]byte(key)))
}

// normalize returns b lowercased with only its ASCII letters and digits
// kept; a non-ASCII letter that lowercases to one counts as it ('K', the
// Kelvin sign, is 'k').
func normalize(b []byte) []byte {
	return appendNormalized(make([]byte, 0, len(b)), b) // every byte or rune gives at most one
}

// appendNormalized appends normalize(b) to out, which has room for len(b)
// more bytes.
func appendNormalized(out, b []byte) []byte {
	n := len(out)
	out = out[:n+len(b)]
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			// Written always, kept when a letter or digit: no branch on
			// what JSON text mixes at random. n <= the bytes read, so
			// out[n] is in range.
			k := asciiKey[c]
			out[n] = k
			n += int(keep[k])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		i += size
		if r = unicode.ToLower(r); r < utf8.RuneSelf && asciiKey[r] != 0 {
			out[n] = asciiKey[r]
			n++
		}
	}
	return out[:n]
}

// keep is 1 for a byte asciiKey keeps, 0 for the 0 it gives the others.
var keep = func() (t [256]uint8) {
	for c := range t {
		if c != 0 {
			t[c] = 1
		}
	}
	return t
}()

// asciiKey maps an ASCII letter or digit to itself lowercased, and every
// other ASCII byte to 0.
var asciiKey = func() (t [utf8.RuneSelf]byte) {
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c
	}
	for c := byte('a'); c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = c, c
	}
	return t
}()

// scrub removes what the rules say from v, in place where it can, and
// reports whether it removed or masked anything.
func (r rules) scrub(v any) (any, bool) {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		asksSensitive := false
		for k, x := range v {
			if r.dropKey(k) {
				delete(v, k)
				changed = true
				continue
			}
			if s, ok := x.(string); ok && normalizeKey(k) == "question" && sensitiveQuestion.MatchString(s) {
				asksSensitive = true
			}
			x, c := r.scrub(x)
			v[k], changed = x, changed || c
		}
		if asksSensitive {
			for k := range v {
				if normalizeKey(k) == "value" {
					delete(v, k)
					changed = true
				}
			}
		}
		return v, changed
	case []any:
		for i, x := range v {
			x, c := r.scrub(x)
			v[i], changed = x, changed || c
		}
		return v, changed
	case string:
		s := scrubString(v)
		return s, s != v
	}
	return v, false
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

// StripSensitive is Sanitize for a hire record.
//
// Deprecated: the client already sanitizes every record and RecordError it
// returns; call Sanitize where a payload comes from elsewhere. It remains
// until sync/run.go stops calling it.
func StripSensitive(raw json.RawMessage) json.RawMessage { return Sanitize(ResourceHire, raw) }
