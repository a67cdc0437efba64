package applicantstack

import (
	"bytes"
	"encoding/json"
	"strings"
)

// SensitiveKeys are removed, at any depth, from every record the client
// returns for hires, and by StripSensitive: stackhouse never stores SSNs,
// dates of birth or onboarding form data.
var sensitiveKeys = map[string]bool{
	"ssn": true, "dob": true, "date of birth": true, "social security number": true,
	"social security": true, "forms": true,
}

// hireOnlyKeys are removed from hire records only: onboarding questionnaires
// hold uploaded documents and personal answers.
var hireOnlyKeys = map[string]bool{"questionnaires": true}

// IsSensitiveKey reports whether a record key holds data stackhouse must
// never write anywhere.
func IsSensitiveKey(k string) bool { return sensitiveKeys[strings.ToLower(strings.TrimSpace(k))] }

// StripSensitive returns raw with sensitive keys (SSN, DOB, Forms…) and, for
// hire records, Questionnaires removed at any depth. Input that is not JSON
// is returned as null: a value that cannot be inspected is not kept.
func StripSensitive(raw json.RawMessage) json.RawMessage {
	return strip(raw, hireOnlyKeys)
}

// StripSensitiveFields is StripSensitive for candidate and job records: it
// keeps questionnaires (screening answers) and drops only sensitive keys.
func StripSensitiveFields(raw json.RawMessage) json.RawMessage {
	return strip(raw, nil)
}

func strip(raw json.RawMessage, extra map[string]bool) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return raw
	}
	if !mayHold(raw, extra) {
		return raw
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return json.RawMessage("null")
	}
	if !scrubValue(v, extra) {
		return raw // nothing removed: keep the original bytes
	}
	out, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return out
}

// scrubValue deletes sensitive keys in place and reports whether it did.
func scrubValue(v any, extra map[string]bool) bool {
	changed := false
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			lk := strings.ToLower(strings.TrimSpace(k))
			if sensitiveKeys[lk] || extra[lk] {
				delete(t, k)
				changed = true
				continue
			}
			if scrubValue(val, extra) {
				changed = true
			}
		}
	case []any:
		for _, val := range t {
			if scrubValue(val, extra) {
				changed = true
			}
		}
	}
	return changed
}

// mayHold is a cheap pre-check so that the common record, with no sensitive
// key, is not decoded a second time.
func mayHold(raw []byte, extra map[string]bool) bool {
	for i := bytes.IndexByte(raw, '"'); i >= 0; {
		rest := raw[i+1:]
		if len(rest) > 0 {
			switch rest[0] | 0x20 { // the first letters of the keys, lowercased
			case 's', 'd', 'f', 'q':
				for k := range sensitiveKeys {
					if hasPrefixFold(rest, k) {
						return true
					}
				}
				for k := range extra {
					if hasPrefixFold(rest, k) {
						return true
					}
				}
			}
		}
		j := bytes.IndexByte(rest, '"')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return false
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}
