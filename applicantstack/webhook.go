package applicantstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Webhook object types.
const (
	ObjectCandidate = "candidate"
	ObjectHire      = "hire"
)

// WebhookEvent is an ApplicantStack stage-change notification:
//
//	{"Object Type":"candidate","Event Type":"stagechange","Domain":"acme",
//	 "Secret":"…","Event Date":"2024-05-01T13:03:46-04:00","Stage":"Interview",
//	 "Candidate Serial":"a4…","User Serial":"","User Type":"SYSTEM"}
//
// Raw is the payload with "Secret" removed and sanitized (see Sanitize),
// safe to store.
type WebhookEvent struct {
	ObjectType      string
	EventType       string
	Domain          string
	Secret          Secret
	EventDate       time.Time // UTC
	Stage           string
	CandidateSerial string
	HireSerial      string
	JobSerial       string
	UserSerial      string
	UserType        string
	Raw             json.RawMessage
}

// ObjectID returns the candidate or hire serial the event is about.
func (e *WebhookEvent) ObjectID() string {
	if e.ObjectType == ObjectHire {
		return e.HireSerial
	}
	return e.CandidateSerial
}

// Authentic reports whether the event carries the account's secret. The
// comparison takes constant time; an empty configured secret never matches.
func (e *WebhookEvent) Authentic(secret Secret) bool {
	if secret == "" {
		return false
	}
	return secret.Equal(e.Secret.Reveal())
}

// ErrBadWebhook wraps every reason a webhook body is refused.
var ErrBadWebhook = errors.New("applicantstack: malformed webhook")

// ParseWebhook decodes a stage-change notification sent as JSON or as a
// form (the content type of the real sender is not documented). Dates
// without an offset are read in loc. Missing required fields are an error
// wrapping ErrBadWebhook.
func ParseWebhook(contentType string, body []byte, loc *time.Location) (*WebhookEvent, error) {
	fields := map[string]string{}
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		var m map[string]Text
		if err := json.Unmarshal(trimmed, &m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadWebhook, err)
		}
		for k, v := range m {
			fields[strings.TrimSpace(k)] = string(v)
		}
	case strings.HasPrefix(strings.ToLower(contentType), "application/x-www-form-urlencoded"):
		q, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return nil, fmt.Errorf("%w: form: %v", ErrBadWebhook, err)
		}
		for k := range q {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(q.Get(k))
		}
	default:
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrBadWebhook)
	}
	e := &WebhookEvent{
		ObjectType:      strings.ToLower(fields["Object Type"]),
		EventType:       strings.ToLower(fields["Event Type"]),
		Domain:          fields["Domain"],
		Secret:          Secret(fields["Secret"]),
		Stage:           fields["Stage"],
		CandidateSerial: fields["Candidate Serial"],
		HireSerial:      fields["Hire Serial"],
		JobSerial:       fields["Job Serial"],
		UserSerial:      fields["User Serial"],
		UserType:        fields["User Type"],
	}
	var missing []string
	if e.ObjectType == "" {
		missing = append(missing, "Object Type")
	}
	if e.EventType == "" {
		missing = append(missing, "Event Type")
	}
	if e.Stage == "" {
		missing = append(missing, "Stage")
	}
	if fields["Event Date"] == "" {
		missing = append(missing, "Event Date")
	}
	switch e.ObjectType {
	case ObjectCandidate:
		if e.CandidateSerial == "" {
			missing = append(missing, "Candidate Serial")
		}
	case ObjectHire:
		if e.HireSerial == "" {
			missing = append(missing, "Hire Serial")
		}
	case "":
	default:
		return nil, fmt.Errorf("%w: unknown Object Type %q", ErrBadWebhook, truncate(e.ObjectType, 40))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: missing %s", ErrBadWebhook, strings.Join(missing, ", "))
	}
	if err := checkWebhookFields(fields); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	t, err := ParseEventDate(fields["Event Date"], loc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	if t.Before(minEventDate) || !t.Before(maxEventDate) {
		return nil, fmt.Errorf("%w: Event Date %s is not between %d and %d", ErrBadWebhook,
			t.Format(time.RFC3339), minEventDate.Year(), maxEventDate.Year())
	}
	e.EventDate = t
	// Every field stored comes from the payload as the privacy policy
	// leaves it, so an SSN-shaped Stage is masked in its column as in Raw.
	delete(fields, "Secret")
	raw, _ := json.Marshal(fields)
	e.Raw = Sanitize(ResourceWebhook, raw)
	var clean map[string]string
	if err := json.Unmarshal(e.Raw, &clean); err != nil {
		return nil, fmt.Errorf("%w: payload cannot be sanitized", ErrBadWebhook)
	}
	e.Domain, e.Stage, e.UserSerial, e.UserType = clean["Domain"], clean["Stage"], clean["User Serial"], clean["User Type"]
	return e, nil
}

// MaxWebhookField is the longest value, in bytes, a webhook field stored
// by stackhouse may have: a stage name, a user type. ApplicantStack's own
// labels are far shorter; anything longer cannot be a real notification.
const MaxWebhookField = 255

// Event dates outside [minEventDate, maxEventDate) cannot be real (the zero
// time among them): ApplicantStack did not exist before 2000.
var (
	minEventDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	maxEventDate = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// serialFields are the webhook keys that hold a record serial.
var serialFields = []string{"Candidate Serial", "Hire Serial", "Job Serial"}

// checkWebhookFields refuses a notification whose fields cannot be real:
// a serial that is not 12 lowercase letters and digits (every serial the
// API is known to send, see IsSerial), a User Serial that is not letters
// and digits (its form is not documented), or a text field longer than
// MaxWebhookField, with control characters or not UTF-8. Errors name the
// field, never quote its value.
func checkWebhookFields(fields map[string]string) error {
	for _, k := range serialFields {
		if v := fields[k]; v != "" && !IsSerial(v) {
			return fmt.Errorf("%s is not a serial (12 lowercase letters and digits)", k)
		}
	}
	if v := fields["User Serial"]; len(v) > 64 || strings.IndexFunc(v, notAlnum) >= 0 {
		return errors.New("User Serial is not letters and digits")
	}
	for _, k := range []string{"Object Type", "Event Type", "Domain", "Stage", "User Type", "Event Date"} {
		v := fields[k]
		switch {
		case len(v) > MaxWebhookField:
			return fmt.Errorf("%s is over %d bytes", k, MaxWebhookField)
		case !utf8.ValidString(v):
			return fmt.Errorf("%s is not UTF-8", k)
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			return fmt.Errorf("%s holds control characters", k)
		}
	}
	return nil
}

// IsSerial reports whether s has the form of an ApplicantStack serial: 12
// lowercase ASCII letters and digits, such as "a4dm0x1cbzrh" (a 2-character
// kind, a 5-character account code, 5 characters for the record).
func IsSerial(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}
