package applicantstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
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
	t, err := ParseEventDate(fields["Event Date"], loc)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWebhook, err)
	}
	e.EventDate = t
	delete(fields, "Secret")
	raw, _ := json.Marshal(fields)
	e.Raw = Sanitize(ResourceWebhook, raw)
	return e, nil
}
