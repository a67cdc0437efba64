package applicantstack

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// hookBody is a signed candidate stage change with the given fields
// replaced (a value of "-" deletes the key).
func hookBody(t *testing.T, set map[string]string) []byte {
	t.Helper()
	p := map[string]string{
		"Object Type": "candidate", "Event Type": "stagechange", "Domain": "acme", "Secret": "s3cret",
		"Event Date": "2026-03-16T10:00:00-04:00", "Stage": "Interview", "Candidate Serial": "a4dm0x1cbzrh",
		"Job Serial": "a2dm0x1nz03p", "User Serial": "a1dm0x1us3r0", "User Type": "USER",
	}
	for k, v := range set {
		if v == "-" {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseWebhook_implausible(t *testing.T) {
	if _, err := ParseWebhook("application/json", hookBody(t, nil), time.UTC); err != nil {
		t.Fatalf("a plausible event: %v", err)
	}
	tests := []struct {
		name   string
		set    map[string]string
		reason string // in the error
	}{
		{"zero date", map[string]string{"Event Date": "0001-01-01T00:00:00Z"}, "Event Date"},
		{"date before ApplicantStack", map[string]string{"Event Date": "1970-01-01T00:00:00Z"}, "Event Date"},
		{"date far ahead", map[string]string{"Event Date": "2999-01-01T00:00:00Z"}, "Event Date"},
		{"NUL in the stage", map[string]string{"Stage": "Inter\x00view"}, "Stage"},
		{"newline in the stage", map[string]string{"Stage": "Interview\nDROP"}, "Stage"},
		{"stage of 1 MB", map[string]string{"Stage": strings.Repeat("x", 1_000_000)}, "Stage"},
		{"stage just over the limit", map[string]string{"Stage": strings.Repeat("x", MaxWebhookField+1)}, "Stage"},
		{"serial of no known form", map[string]string{"Candidate Serial": "../../admin"}, "Candidate Serial"},
		{"serial too long", map[string]string{"Candidate Serial": "a4dm0x1cbzrh0"}, "Candidate Serial"},
		{"serial in capitals", map[string]string{"Candidate Serial": "A4DM0X1CBZRH"}, "Candidate Serial"},
		{"job serial of no known form", map[string]string{"Job Serial": "a2job"}, "Job Serial"},
		{"hire serial of no known form", map[string]string{"Object Type": "hire", "Candidate Serial": "-", "Hire Serial": "e2 x"}, "Hire Serial"},
		{"user serial with a control character", map[string]string{"User Serial": "a1\x07"}, "User Serial"},
		{"user type of 1 kB", map[string]string{"User Type": strings.Repeat("U", 1000)}, "User Type"},
		{"domain with a NUL", map[string]string{"Domain": "acme\x00"}, "Domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWebhook("application/json", hookBody(t, tt.set), time.UTC)
			if !errors.Is(err, ErrBadWebhook) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want ErrBadWebhook naming %s", err, tt.reason)
			}
			if len(err.Error()) > 200 {
				t.Errorf("the reason is %d bytes long: %.80s…", len(err.Error()), err)
			}
		})
	}
	t.Run("stage at the limit", func(t *testing.T) {
		if _, err := ParseWebhook("application/json", hookBody(t, map[string]string{"Stage": strings.Repeat("x", MaxWebhookField)}), time.UTC); err != nil {
			t.Error(err)
		}
	})
	t.Run("invalid UTF-8 in a form", func(t *testing.T) {
		form := "Object+Type=candidate&Event+Type=stagechange&Secret=x&Stage=%FF%FE&Candidate+Serial=a4dm0x1cbzrh&Event+Date=2026-03-16T10%3A00%3A00Z"
		if _, err := ParseWebhook("application/x-www-form-urlencoded", []byte(form), time.UTC); !errors.Is(err, ErrBadWebhook) {
			t.Errorf("err = %v", err)
		}
	})
}

// TestParseWebhook_privacy: the one privacy policy (Sanitize) applies to
// every field stored, not only to Raw.
func TestParseWebhook_privacy(t *testing.T) {
	e, err := ParseWebhook("application/json", hookBody(t, map[string]string{
		"Stage": "SSN 123-45-6789 checked", "User Type": "USER 987-65-4321",
	}), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"Stage": e.Stage, "User Type": e.UserType, "Raw": string(e.Raw)} {
		if strings.Contains(v, "123-45-6789") || strings.Contains(v, "987-65-4321") {
			t.Errorf("%s keeps the SSN: %s", name, v)
		}
	}
	if e.Stage != "SSN XXX-XX-XXXX checked" {
		t.Errorf("Stage = %q, want the SSN masked and the rest kept", e.Stage)
	}
}
