package applicantstack

import (
	"crypto/subtle"
	"log/slog"
)

// Secret is a token or webhook secret. Every way of printing it — fmt verbs,
// slog, YAML, JSON — shows "<redacted>"; Reveal returns the value for the one
// place that needs it (an HTTP header, a constant-time compare).
type Secret string

const redacted = "<redacted>"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer, so %#v does not leak either.
func (s Secret) GoString() string { return `applicantstack.Secret("` + s.String() + `")` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler (JSON, YAML and others).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// MarshalYAML implements yaml.Marshaler.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// Equal reports whether s equals the given value, in constant time.
func (s Secret) Equal(v string) bool {
	return subtle.ConstantTimeCompare([]byte(s), []byte(v)) == 1
}
