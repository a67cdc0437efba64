package schema

import (
	"encoding/json"

	"github.com/stackhouse/stackhouse/applicantstack"
)

// Sanitize is applicantstack.Sanitize, the privacy policy.
//
// Deprecated: call applicantstack.Sanitize. This forwarder remains only
// until warehouse/merge.go calls it directly.
func Sanitize(resource string, raw json.RawMessage) json.RawMessage {
	return applicantstack.Sanitize(resource, raw)
}
